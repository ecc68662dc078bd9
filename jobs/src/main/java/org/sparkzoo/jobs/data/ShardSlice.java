package org.sparkzoo.jobs.data;

import org.apache.hadoop.conf.Configuration;
import org.sparkzoo.dataprep.ImageRecord;
import org.sparkzoo.dataprep.Manifest;
import org.sparkzoo.dataprep.ShardReader;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

/**
 * Rows of one Parquet shard, named by a string that dl4j-spark can carry as a "path": a run of consecutive rows
 * {@code <shard-uri>#<offset>+<count>}, or chosen rows {@code <shard-uri>#rows=<r1>,<r2>,...} (ascending).
 *
 * <p>dl4j-spark's {@code fitPaths} lets a worker fit at most {@code averagingFrequency} minibatches per round and
 * drops the rest of what it loaded (STACK.md), and its re-batching loses examples when one loaded object holds
 * more than two minibatches. Train-job therefore cuts slices of at most one minibatch and hands each worker at
 * most {@code averagingFrequency} of them per round, so every image of an epoch is trained on exactly once.
 *
 * <p>Which images share a minibatch changes every epoch ({@link #epoch}): each shard's rows are dealt into
 * minibatches by a seeded permutation, so batch-norm statistics never see the same company twice, while a slice
 * still reads only its own shard, as a run of rows does (a slice reads the row groups that hold its rows).
 */
public final class ShardSlice {
    public final String shard;
    /** The rows, ascending. */
    private final long[] rows;
    public final int count;

    private ShardSlice(String shard, long[] rows) {
        this.shard = shard;
        this.rows = rows;
        this.count = rows.length;
    }

    /** Rows [offset, offset + count) of the shard. */
    public ShardSlice(String shard, long offset, int count) {
        this(shard, range(offset, count));
    }

    private static long[] range(long offset, int count) {
        long[] r = new long[count];
        for (int i = 0; i < count; i++) {
            r[i] = offset + i;
        }
        return r;
    }

    /** The rows, ascending (a copy). */
    public long[] rows() {
        return rows.clone();
    }

    private boolean contiguous() {
        return count > 0 && rows[count - 1] - rows[0] == count - 1;
    }

    public String path() {
        if (count == 0 || contiguous()) {
            return shard + "#" + (count == 0 ? 0 : rows[0]) + "+" + count;
        }
        return shard + "#rows=" + Arrays.stream(rows).mapToObj(Long::toString).collect(Collectors.joining(","));
    }

    public static ShardSlice parse(String path) {
        int hash = path.lastIndexOf('#');
        if (hash < 0) {
            throw new IllegalArgumentException("not a shard slice (expected <shard>#<offset>+<count> or <shard>#rows=...): " + path);
        }
        String shard = path.substring(0, hash);
        String rows = path.substring(hash + 1);
        try {
            if (rows.startsWith("rows=")) {
                return new ShardSlice(shard, Arrays.stream(rows.substring(5).split(",")).mapToLong(Long::parseLong).toArray());
            }
            int plus = rows.indexOf('+');
            return new ShardSlice(shard, Long.parseLong(rows.substring(0, plus)), Integer.parseInt(rows.substring(plus + 1)));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a shard slice (expected <shard>#<offset>+<count> or <shard>#rows=...): " + path);
        }
    }

    /** The slice's images, in row order. */
    public List<ImageRecord> read(Configuration conf) {
        return contiguous() ? ShardReader.read(shard, conf, rows[0], count) : ShardReader.readRows(shard, conf, rows);
    }

    /** All slices of a split's shards as runs of consecutive rows, each at most {@code maxRows} long, in shard order. */
    public static List<ShardSlice> cut(String datasetUri, Manifest.Split split, int maxRows) {
        List<ShardSlice> slices = new ArrayList<>();
        for (Manifest.ShardInfo shard : split.shards) {
            for (long off = 0; off < shard.rows; off += maxRows) {
                slices.add(new ShardSlice(shardUri(datasetUri, shard), off, (int) Math.min(maxRows, shard.rows - off)));
            }
        }
        return slices;
    }

    /**
     * The epoch's minibatches: each shard's rows dealt into slices of at most {@code maxRows} by a permutation
     * seeded with (seed, epoch, shard), then all slices in a seeded order. Different every epoch, identical on
     * rerun and on resume; every row of the split is in exactly one slice, and the number of slices is the same
     * every epoch ({@link #cut} has as many).
     */
    public static List<ShardSlice> epoch(String datasetUri, Manifest.Split split, int maxRows, long seed, int epoch) {
        List<ShardSlice> slices = new ArrayList<>();
        for (int s = 0; s < split.shards.size(); s++) {
            Manifest.ShardInfo shard = split.shards.get(s);
            List<Long> order = new ArrayList<>();
            for (long r = 0; r < shard.rows; r++) {
                order.add(r);
            }
            Collections.shuffle(order, new Random(mix(seed, epoch, s)));
            for (int from = 0; from < order.size(); from += maxRows) {
                long[] rows = order.subList(from, Math.min(order.size(), from + maxRows)).stream().mapToLong(Long::longValue).toArray();
                Arrays.sort(rows);
                slices.add(new ShardSlice(shardUri(datasetUri, shard), rows));
            }
        }
        Collections.shuffle(slices, new Random(seed * 1_000_003L + epoch));
        return slices;
    }

    private static long mix(long seed, int epoch, int shard) {
        long h = seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + shard * 0x94D049BB133111EBL;
        return h ^ (h >>> 31);
    }

    private static String shardUri(String datasetUri, Manifest.ShardInfo shard) {
        return (datasetUri.endsWith("/") ? datasetUri : datasetUri + "/") + shard.file;
    }

    @Override
    public String toString() {
        return path();
    }
}
