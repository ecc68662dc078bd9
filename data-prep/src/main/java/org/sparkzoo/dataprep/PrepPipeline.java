package org.sparkzoo.dataprep;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import org.sparkzoo.dataprep.io.HadoopConf;
import org.sparkzoo.dataprep.source.SourcePlan;
import org.sparkzoo.dataprep.source.Sources;
import org.sparkzoo.dataprep.source.WorkItem;
import scala.Tuple2;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * prep-job's work: list the dataset, decode / clean / resize / augment on the executors, write globally
 * shuffled Parquet shards of exactly {@code shardSize} rows (the last of a split may be smaller), then
 * checksum them and write {@code manifest.json} last, atomically.
 *
 * <p>The shuffle is a sort by a 64-bit hash of (seed, split, relative path, copy), so the same input and
 * seed give the same rows in the same shards, byte for byte, wherever the input lives.
 */
public final class PrepPipeline {
    /** Shard columns. */
    public static final StructType SCHEMA = new StructType()
            .add("image", DataTypes.BinaryType, false)
            .add("label", DataTypes.IntegerType, false)
            .add("wnid", DataTypes.StringType, false)
            .add("path", DataTypes.StringType, false)
            .add("width", DataTypes.IntegerType, false)
            .add("height", DataTypes.IntegerType, false)
            .add("encoding", DataTypes.StringType, false)
            .add("channels", DataTypes.IntegerType, false);

    private static final Set<String> OWN_NAMES = Set.of(Sources.TRAIN, Sources.VAL, "_tmp_" + Sources.TRAIN, "_tmp_" + Sources.VAL, Manifest.FILE_NAME);

    private PrepPipeline() {
    }

    public static PrepResult run(SparkSession spark, PrepOptions options) {
        return run(spark, options, System.out);
    }

    /** As {@link #run(SparkSession, PrepOptions)}, printing progress and the reconciliation to {@code out}. */
    public static PrepResult run(SparkSession spark, PrepOptions o, PrintStream out) {
        long t0 = System.nanoTime();
        o.validate();
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        try {
            Path outDir = new Path(HadoopConf.qualify(o.output, conf));
            FileSystem outFs = outDir.getFileSystem(conf);
            refuseOrClear(outFs, outDir, o.overwrite);

            SourcePlan plan = Sources.plan(o, conf);
            for (String note : plan.notes) out.println("prep: " + note);
            int channels = o.channels != 0 ? o.channels : (plan.channelsHint != 0 ? plan.channelsHint : 3);
            List<WorkItem> all = new ArrayList<>();
            for (List<WorkItem> l : plan.items.values()) all.addAll(l);
            if (all.isEmpty()) throw new IllegalArgumentException("no images found under " + o.input);
            out.printf(Locale.ROOT, "prep: %d classes, %d source images (%s), %d files ignored; storing %d-channel %s%n",
                    plan.classes.size(), all.size(), countsBySplit(plan), plan.ignored.size(), channels,
                    o.storage.equals(ImageRecord.JPEG) ? "JPEG q" + o.jpegQuality : "raw uint8");

            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            int slices = o.partitions > 0 ? o.partitions
                    : (int) Math.min(all.size(), Math.max(4L * jsc.defaultParallelism(), (all.size() + 127) / 128));
            LongAccumulator done = spark.sparkContext().longAccumulator("prep images done");
            ImagePreparer preparer = new ImagePreparer(o, channels, new HadoopConf(conf));
            JavaRDD<Prepared> prepared = jsc.parallelize(all, slices).flatMap(w -> {
                List<Prepared> r = preparer.prepare(w);
                done.add(1);
                return r.iterator();
            }).persist(StorageLevel.MEMORY_AND_DISK_SER());
            try {
                List<Prepared> summaries;
                try (Progress p = new Progress(done, all.size(), o.progressSeconds, out)) {
                    summaries = prepared.map(Prepared::summary).collect();
                }
                Manifest m = new Manifest();
                m.classes.addAll(plan.classes);
                m.channels = channels;
                m.encoding = o.storage;
                m.seed = o.seed;
                m.options.putAll(o.toMap());
                m.options.put("resolvedLayout", plan.layout);
                m.options.put("notes", plan.notes);
                m.ignored.addAll(plan.ignored);
                Map<String, Map<String, Long>> found = plan.foundPerClass();
                PrepResult result = new PrepResult(new Path(outDir, Manifest.FILE_NAME).toString(), m);

                for (String split : plan.items.keySet()) {
                    Manifest.Split s = new Manifest.Split();
                    s.shardSize = o.shardSize;
                    s.foundPerClass.putAll(found.get(split));
                    List<Long> keys = new ArrayList<>();
                    for (Prepared p : summaries) {
                        if (!p.split.equals(split)) continue;
                        if (p.ok()) {
                            keys.add(p.key);
                            s.countsPerClass.merge(p.wnid, 1L, Long::sum);
                            if (p.copy > 0) {
                                s.augmentedCopies++;
                                s.augmentedPerClass.merge(p.wnid, 1L, Long::sum);
                            }
                        } else {
                            s.quarantinedPerClass.merge(p.wnid, 1L, Long::sum);
                            m.quarantine.add(new Manifest.QuarantineEntry(p.path, split, p.reason));
                        }
                    }
                    s.count = keys.size();
                    long[] sorted = keys.stream().mapToLong(Long::longValue).sorted().toArray();
                    for (int i = 1; i < sorted.length; i++) {
                        if (sorted[i] == sorted[i - 1]) {
                            throw new IllegalArgumentException("two images of " + split + " drew the same shuffle key with seed " + o.seed + ": choose another --seed");
                        }
                    }
                    s.shards.addAll(writeShards(spark, jsc, prepared, split, sorted, outDir, o, conf));
                    m.splits.put(split, s);
                    result.rowsPerSplit.put(split, s.count);
                }
                m.quarantine.sort(Comparator.comparing((Manifest.QuarantineEntry q) -> q.split).thenComparing(q -> q.path));
                result.reconciliation = reconcile(m, plan);
                out.print(result.reconciliation);
                for (Manifest.QuarantineEntry q : m.quarantine) out.println("prep: quarantined " + q);
                m.write(outDir.toString(), conf);
                result.found = all.size();
                result.quarantined = m.quarantine.size();
                result.ignored = m.ignored.size();
                result.seconds = (System.nanoTime() - t0) / 1e9;
                out.println(result);
                return result;
            } finally {
                prepared.unpersist(false);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("prep failed: " + e.getMessage(), e);
        }
    }

    private static String countsBySplit(SourcePlan plan) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, List<WorkItem>> e : plan.items.entrySet()) {
            if (sb.length() > 0) sb.append(", ");
            sb.append(e.getKey()).append(' ').append(e.getValue().size());
        }
        return sb.toString();
    }

    /**
     * An existing non-empty output is refused without --overwrite, and is only ever deleted if prep-job wrote it.
     * Refusals are IllegalArgumentExceptions: the user's --output is at fault, and the jobs print them as one line.
     */
    static void refuseOrClear(FileSystem fs, Path outDir, boolean overwrite) throws IOException {
        if (!fs.exists(outDir)) return;
        if (!fs.getFileStatus(outDir).isDirectory()) throw new IllegalArgumentException("output " + outDir + " is a file, not a folder");
        FileStatus[] entries = fs.listStatus(outDir);
        if (entries.length == 0) return;
        Path manifest = new Path(outDir, Manifest.FILE_NAME);
        boolean hasManifest = fs.exists(manifest);
        if (!overwrite) {
            throw new IllegalArgumentException("output " + outDir + " already exists" + (hasManifest ? " and holds a prepared dataset" : " and is not empty")
                    + ": pass --overwrite to replace it, or choose another --output");
        }
        for (FileStatus e : entries) {
            String n = e.getPath().getName();
            if (!hasManifest && !OWN_NAMES.contains(n) && !n.startsWith(".")) {
                throw new IllegalArgumentException("output " + outDir + " holds '" + n + "' and no manifest.json: it does not look like a "
                        + "prep-job dataset, so it is not deleted even with --overwrite; choose another --output");
            }
        }
        fs.delete(manifest, false);                  // first: a crash below must not leave a manifest without shards
        for (FileStatus e : fs.listStatus(outDir)) fs.delete(e.getPath(), true);
    }

    /** Rank r goes to shard r / shardSize. */
    static final class ShardPartitioner extends Partitioner {
        private static final long serialVersionUID = 1L;
        private final int numShards;
        private final int shardSize;

        ShardPartitioner(int numShards, int shardSize) {
            this.numShards = numShards;
            this.shardSize = shardSize;
        }

        @Override
        public int numPartitions() {
            return numShards;
        }

        @Override
        public int getPartition(Object key) {
            return (int) ((Long) key / shardSize);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ShardPartitioner p && p.numShards == numShards && p.shardSize == shardSize;
        }

        @Override
        public int hashCode() {
            return numShards * 31 + shardSize;
        }
    }

    private static List<Manifest.ShardInfo> writeShards(SparkSession spark, JavaSparkContext jsc, JavaRDD<Prepared> prepared, String split,
                                                        long[] sortedKeys, Path outDir, PrepOptions o, Configuration conf) throws IOException {
        List<Manifest.ShardInfo> shards = new ArrayList<>();
        if (sortedKeys.length == 0) return shards;
        int numShards = (int) ((sortedKeys.length + o.shardSize - 1) / o.shardSize);
        Broadcast<long[]> keys = jsc.broadcast(sortedKeys);
        JavaPairRDD<Long, Prepared> ranked = prepared
                .filter(p -> p.ok() && p.split.equals(split))
                .mapToPair(p -> new Tuple2<>((long) Arrays.binarySearch(keys.value(), p.key), p));
        JavaRDD<Row> rows = ranked
                .repartitionAndSortWithinPartitions(new ShardPartitioner(numShards, o.shardSize), Comparator.<Long>naturalOrder())
                .map(t -> {
                    Prepared p = t._2();
                    return RowFactory.create(p.image, p.label, p.wnid, p.path, p.width, p.height, p.encoding, p.channels);
                });
        Path tmp = new Path(outDir, "_tmp_" + split);
        spark.createDataFrame(rows, SCHEMA).write()
                .mode(SaveMode.Overwrite)
                .option("compression", ImageRecord.RAW.equals(o.storage) ? "snappy" : "uncompressed")
                .option("maxRecordsPerFile", 0)
                .parquet(tmp.toString());
        keys.destroy();

        FileSystem fs = outDir.getFileSystem(conf);
        FileStatus[] parts = fs.listStatus(tmp, p -> p.getName().startsWith("part-") && p.getName().endsWith(".parquet"));
        Arrays.sort(parts, Comparator.comparing(s -> s.getPath().getName()));
        if (parts.length != numShards) {
            throw new IllegalStateException("Spark wrote " + parts.length + " files for " + numShards + " shards of " + split + " in " + tmp);
        }
        Path splitDir = new Path(outDir, split);
        fs.mkdirs(splitDir);
        List<String> files = new ArrayList<>();
        long[] rowsPerShard = new long[numShards];
        for (int i = 0; i < numShards; i++) {
            String rel = split + "/" + String.format("%s-%05d-of-%05d.parquet", split, i, numShards);
            if (!fs.rename(parts[i].getPath(), new Path(outDir, rel))) throw new IOException("cannot rename " + parts[i].getPath() + " to " + rel);
            files.add(rel);
            rowsPerShard[i] = Math.min(o.shardSize, sortedKeys.length - (long) i * o.shardSize);
        }
        fs.delete(tmp, true);

        HadoopConf hc = new HadoopConf(conf);
        String base = outDir.toString();
        List<String[]> sums = jsc.parallelize(files, Math.min(files.size(), Math.max(1, jsc.defaultParallelism())))
                .map(rel -> checksum(new Path(base, rel), hc)).collect();
        for (int i = 0; i < numShards; i++) {
            shards.add(new Manifest.ShardInfo(files.get(i), rowsPerShard[i], Long.parseLong(sums.get(i)[1]), sums.get(i)[0]));
        }
        return shards;
    }

    /** {sha256 hex, length} of a file. */
    static String[] checksum(Path p, HadoopConf conf) throws Exception {
        FileSystem fs = p.getFileSystem(conf.get());
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        long n = 0;
        byte[] buf = new byte[1 << 20];
        try (FSDataInputStream in = fs.open(p)) {
            for (int r; (r = in.read(buf)) > 0; n += r) md.update(buf, 0, r);
        }
        return new String[]{HexFormat.of().formatHex(md.digest()), Long.toString(n)};
    }

    /** Checks found = written + quarantined for every split and class, and renders the table. */
    static String reconcile(Manifest m, SourcePlan plan) {
        StringBuilder sb = new StringBuilder("prep: reconciliation per split and class (found = written + quarantined):\n");
        sb.append(String.format(Locale.ROOT, "prep:   %-5s %-14s %-24s %8s %8s %11s %7s%n", "split", "wnid", "name", "found", "written", "quarantined", "copies"));
        Map<String, String> names = new TreeMap<>();
        for (Manifest.ClassInfo c : m.classes) names.put(c.wnid, c.name);
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Manifest.Split> e : m.splits.entrySet()) {
            Manifest.Split s = e.getValue();
            long totalFound = 0, totalWritten = 0, totalQ = 0;
            java.util.Set<String> wnids = new java.util.TreeSet<>(s.foundPerClass.keySet());
            wnids.addAll(s.countsPerClass.keySet());
            wnids.addAll(s.quarantinedPerClass.keySet());
            int quiet = 0;
            for (String wnid : wnids) {
                long f = s.foundPerClass.getOrDefault(wnid, 0L), q = s.quarantinedPerClass.getOrDefault(wnid, 0L);
                long rows = s.countsPerClass.getOrDefault(wnid, 0L);
                long c = s.augmentedPerClass.getOrDefault(wnid, 0L);
                long w = rows - c;
                totalFound += f;
                totalWritten += w;
                totalQ += q;
                if (f != w + q) problems.add(e.getKey() + " " + wnid + ": found " + f + " != written " + w + " + quarantined " + q);
                if (wnids.size() <= 100 || q > 0 || f != w + q) {
                    sb.append(String.format(Locale.ROOT, "prep:   %-5s %-14s %-24s %8d %8d %11d %7d%n", e.getKey(), wnid,
                            abbreviate(names.getOrDefault(wnid, "-")), f, w, q, c));
                } else {
                    quiet++;
                }
            }
            if (quiet > 0) sb.append(String.format(Locale.ROOT, "prep:   %-5s (%d more classes: all found files written)%n", e.getKey(), quiet));
            sb.append(String.format(Locale.ROOT, "prep:   %-5s %-14s %-24s %8d %8d %11d %7d%n", e.getKey(), "TOTAL", "", totalFound, totalWritten, totalQ, s.augmentedCopies));
        }
        if (!problems.isEmpty()) throw new IllegalStateException("reconciliation failed (a bug; please report it): " + problems);
        return sb.toString();
    }

    private static String abbreviate(String s) {
        return s.length() <= 24 ? s : s.substring(0, 23) + "…";
    }
}
