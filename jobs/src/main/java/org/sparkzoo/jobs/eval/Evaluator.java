package org.sparkzoo.jobs.eval;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.SerializableConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkzoo.dataprep.ImageRecord;
import org.sparkzoo.dataprep.Manifest;
import org.sparkzoo.dataprep.io.HadoopConf;
import org.sparkzoo.jobs.checkpoint.Checkpoints;
import org.sparkzoo.jobs.checkpoint.TrainState;
import org.sparkzoo.jobs.cli.UserError;
import org.sparkzoo.jobs.data.ImageBatches;
import org.sparkzoo.jobs.data.ShardSlice;
import org.sparkzoo.models.ModelRegistry;
import org.sparkzoo.models.ModelSpec;
import org.sparkzoo.models.NativeKernels;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Distributed evaluation of one model or an ensemble: the split's shards are cut into slices, each image is
 * read by exactly one task, every member scores it (averaging its test-time views), the members' softmax
 * outputs are combined on the executor, and only the ranked classes come back to the driver, where accuracy,
 * per-class counts and the confusion matrix are summed.
 */
public final class Evaluator {
    static final int RANKED = 10;

    private Evaluator() {
    }

    /** One member of an ensemble, as the executors need it. */
    static final class Member implements Serializable {
        private static final long serialVersionUID = 1L;
        final String uri;
        final String name;
        final int imageSize;
        final int channels;
        final double weight;
        /** The registry name (lenet5, resnet50, ...). */
        final String model;
        /** Multiply-adds of one forward pass and trainable parameters, from the checkpoint's configuration. */
        long multiplyAdds;
        long params;

        Member(String uri, String name, int imageSize, int channels, double weight, String model) {
            this.uri = uri;
            this.name = name;
            this.imageSize = imageSize;
            this.channels = channels;
            this.weight = weight;
            this.model = model;
        }
    }

    /**
     * What comes back per image: its label and, per member and then for the ensemble, the best classes first; where
     * it is (slice, row) and the probability of its top-1 class (the ensemble's: the members' mean), for --explain.
     */
    static final class Ranked implements Serializable {
        private static final long serialVersionUID = 1L;
        final int label;
        final int[][] ranked;
        final String slice;
        final int row;
        final float confidence;

        Ranked(int label, int[][] ranked, String slice, int row, float confidence) {
            this.label = label;
            this.ranked = ranked;
            this.slice = slice;
            this.row = row;
            this.confidence = confidence;
        }
    }

    public static EvalResult evaluate(SparkSession spark, List<String> checkpointUris, String data, EvalOptions o) throws IOException {
        long t0 = System.nanoTime();
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        String dataUri = HadoopConf.qualify(data, hadoop);
        Manifest manifest = Manifest.read(dataUri, hadoop);
        Manifest.Split split = manifest.split(o.split);
        List<String> wnids = manifest.classes().stream().map(c -> c.wnid).collect(Collectors.toList());
        List<String> names = manifest.classes().stream().map(c -> c.name).collect(Collectors.toList());
        List<Member> members = members(checkpointUris, hadoop, manifest, dataUri, o);
        List<View> views = View.parse(o.views, o.resizeRatio);

        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<String> slices = ShardSlice.cut(dataUri, split, o.sliceRows).stream().map(ShardSlice::path).collect(Collectors.toList());
        Broadcast<SerializableConfiguration> conf = sc.broadcast(new SerializableConfiguration(hadoop));
        JavaRDD<String> rdd = sc.parallelize(slices, Math.max(1, slices.size()));
        String evaluation = java.util.UUID.randomUUID().toString();
        List<Ranked> ranked = rdd.mapPartitions(new ScoreSlices(evaluation, members, views, o.ensemble, wnids.size(), conf)).collect();
        long scored = System.nanoTime();

        EvalResult result = new EvalResult(wnids, names);
        for (Member m : members) {
            result.members.add(new EvalResult.Scores(m.name, wnids.size()));
            result.models.add(m.model);
            result.multiplyAdds.add(m.multiplyAdds);
            result.params.add(m.params);
        }
        result.views = views.stream().map(View::toString).collect(Collectors.toList());
        EvalResult.Scores ensemble = members.size() == 1 ? result.members.get(0)
                : new EvalResult.Scores("ensemble (" + o.ensemble + ")", wnids.size());
        for (Ranked r : ranked) {
            for (int i = 0; i < members.size(); i++) {
                result.members.get(i).add(r.label, r.ranked[i]);
            }
            if (members.size() > 1) {
                ensemble.add(r.label, r.ranked[members.size()]);
            }
        }
        result.members.forEach(EvalResult.Scores::finish);
        ensemble.finish();
        result.ensemble = ensemble;
        result.expectedImages = split.count;
        if (ensemble.count != split.count) {
            throw new IllegalStateException("evaluated " + ensemble.count + " images but the manifest's " + o.split
                    + " split has " + split.count + ": every image must be counted exactly once");
        }
        if (o.explain > 0) {
            long e0 = System.nanoTime();
            result.explanations = Explanations.run(sc, evaluation, members, ranked, result, o, conf);
            result.explainSeconds = (System.nanoTime() - e0) / 1e9;
        }
        result.seconds = (scored - t0) / 1e9;
        return result;
    }

    /**
     * Checks each checkpoint on the driver, before any task starts, and refuses members that cannot be evaluated
     * on this data, with a one-line error naming the checkpoint and the fix: missing, corrupt (truncated, bad
     * CRC, no network or state inside), trained on another class index, an input size below the model's
     * minimum, or a channel count the stored images cannot give.
     */
    static List<Member> members(List<String> uris, Configuration hadoop, Manifest manifest, String dataUri, EvalOptions o) throws IOException {
        if (uris.isEmpty()) {
            throw new UserError("no checkpoints given: pass --checkpoints run/model.zip[,other/model.zip...]");
        }
        String weights = o.weightsProblem(uris.size());
        if (weights != null) {
            throw new UserError(weights);
        }
        List<String> wnids = manifest.classes().stream().map(c -> c.wnid).collect(Collectors.toList());
        List<Member> members = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < uris.size(); i++) {
            // executors load it in folders of their own: a relative path must not reach them
            String uri = HadoopConf.qualify(uris.get(i), hadoop);
            String[] configuration = new String[1];
            TrainState state = inspect(uri, hadoop, configuration);
            if (!state.classes.equals(wnids)) {
                throw new UserError("checkpoint " + uri + " was trained on a class index (" + state.classes.size() + " classes"
                        + firstDifference(state.classes, wnids) + ") that differs from the " + wnids.size() + " classes of "
                        + dataUri + "'s manifest; evaluate it on the dataset it was trained on");
            }
            ModelSpec spec;
            try {
                spec = ModelRegistry.get(state.model);
            } catch (IllegalArgumentException e) {
                throw new UserError("checkpoint " + uri + ": " + e.getMessage() + "; it was written by another version of sparkzoo", e);
            }
            if (state.imageSize < spec.minInputSize) {
                throw new UserError("checkpoint " + uri + " takes " + state.imageSize + "px inputs, below " + spec.name + "'s minimum of "
                        + spec.minInputSize + "px; retrain it with train-job --image-size " + spec.minInputSize + " or more");
            }
            String name = state.model + "@" + state.imageSize;
            int n = seen.merge(name, 1, Integer::sum);
            Member member = new Member(uri, n == 1 ? name : name + "#" + n, state.imageSize, state.channels,
                    "weighted".equals(o.ensemble) ? o.weights.get(i) : 1.0, state.model);
            org.deeplearning4j.nn.conf.ComputationGraphConfiguration graph =
                    org.deeplearning4j.nn.conf.ComputationGraphConfiguration.fromJson(configuration[0]);
            member.multiplyAdds = org.sparkzoo.models.ModelStats.multiplyAdds(graph, state.channels, state.imageSize, state.imageSize);
            member.params = org.sparkzoo.models.ModelStats.trainableParams(graph);
            members.add(member);
        }
        return members;
    }

    /**
     * Reads a checkpoint's state and verifies the whole archive (central directory, every entry's CRC, the
     * network's entries) without building the network, so a bad file fails here and not in a task.
     */
    static TrainState inspect(String uri, Configuration hadoop, String[] configuration) throws IOException {
        org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(uri);
        if (!path.getFileSystem(hadoop).exists(path)) {
            throw new UserError("checkpoint " + uri + " does not exist; pass a model.zip or checkpoints/ckpt-*.zip that train-job wrote");
        }
        java.nio.file.Path local = java.nio.file.Files.createTempFile("sparkzoo-inspect", ".zip");
        try {
            try (java.io.InputStream in = path.getFileSystem(hadoop).open(path)) {
                java.nio.file.Files.copy(in, local, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            java.util.Set<String> entries = new java.util.HashSet<>();
            byte[] state = null;
            try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(local.toFile());
                 java.util.zip.ZipInputStream in = new java.util.zip.ZipInputStream(java.nio.file.Files.newInputStream(local))) {
                zip.size(); // opening it checked the central directory: a truncated copy fails here
                java.util.zip.ZipEntry e;
                byte[] buf = new byte[1 << 16];
                while ((e = in.getNextEntry()) != null) {
                    entries.add(e.getName());
                    boolean isConfiguration = "configuration.json".equals(e.getName());
                    java.io.ByteArrayOutputStream keep = Checkpoints.STATE_ENTRY.equals(e.getName()) || isConfiguration
                            ? new java.io.ByteArrayOutputStream() : null;
                    for (int r; (r = in.read(buf)) > 0; ) { // reading to the end checks the entry's CRC
                        if (keep != null) {
                            keep.write(buf, 0, r);
                        }
                    }
                    if (keep != null && isConfiguration) {
                        configuration[0] = keep.toString(java.nio.charset.StandardCharsets.UTF_8);
                    } else if (keep != null) {
                        state = keep.toByteArray();
                    }
                }
            } catch (IOException | RuntimeException e) {
                throw new UserError("checkpoint " + uri + " is corrupt (" + oneLine(e) + "); use another checkpoint of the same run (its checkpoints/ folder) or retrain", e);
            }
            for (String needed : List.of("configuration.json", "coefficients.bin")) {
                if (!entries.contains(needed)) {
                    throw new UserError("checkpoint " + uri + " has no " + needed + ": it is not a DL4J model; pass a model.zip or checkpoints/ckpt-*.zip that train-job wrote");
                }
            }
            if (state == null) {
                throw new UserError("checkpoint " + uri + " has no " + Checkpoints.STATE_ENTRY + ": it was not written by train-job; pass a model.zip or checkpoints/ckpt-*.zip that train-job wrote");
            }
            try {
                return STATE_JSON.readValue(state, TrainState.class);
            } catch (IOException e) {
                throw new UserError("checkpoint " + uri + " has an unreadable " + Checkpoints.STATE_ENTRY + " (" + oneLine(e) + "); use another checkpoint of the same run or retrain", e);
            }
        } finally {
            java.nio.file.Files.deleteIfExists(local);
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper STATE_JSON = new com.fasterxml.jackson.databind.ObjectMapper()
            .configure(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
        m = m.replaceAll("\\s+", " ").trim();
        return m.length() > 200 ? m.substring(0, 200) + "..." : m;
    }

    /** ", first difference at index i: 'a' vs 'b'" for the error message, or the size difference. */
    private static String firstDifference(List<String> ckpt, List<String> data) {
        for (int i = 0; i < Math.min(ckpt.size(), data.size()); i++) {
            if (!ckpt.get(i).equals(data.get(i))) {
                return ", first difference at index " + i + ": " + ckpt.get(i) + " in the checkpoint, " + data.get(i) + " in the manifest";
            }
        }
        return "";
    }

    /** Executor side: scores the slices of one partition with every member. */
    static final class ScoreSlices implements FlatMapFunction<Iterator<String>, Ranked> {
        private static final long serialVersionUID = 1L;
        private final String evaluation;
        private final List<Member> members;
        private final List<View> views;
        private final String rule;
        private final int numClasses;
        private final Broadcast<SerializableConfiguration> conf;

        ScoreSlices(String evaluation, List<Member> members, List<View> views, String rule, int numClasses, Broadcast<SerializableConfiguration> conf) {
            this.evaluation = evaluation;
            this.members = members;
            this.views = views;
            this.rule = rule;
            this.numClasses = numClasses;
            this.conf = conf;
        }

        @Override
        public Iterator<Ranked> call(Iterator<String> paths) throws Exception {
            NativeKernels.enable();
            Configuration hadoop = conf.value().value();
            List<Ranked> out = new ArrayList<>();
            ComputationGraph[] nets = new ComputationGraph[members.size()];
            try {
                for (int m = 0; m < members.size(); m++) {
                    String uri = members.get(m).uri;
                    nets[m] = NetworkPool.borrow(evaluation, uri, () -> Checkpoints.load(uri, hadoop, false).network);
                }
                score(paths, nets, hadoop, out);
            } finally {
                for (int m = 0; m < members.size(); m++) {
                    if (nets[m] != null) {
                        NetworkPool.giveBack(members.get(m).uri, nets[m]);
                    }
                }
            }
            return out.iterator();
        }

        private void score(Iterator<String> paths, ComputationGraph[] nets, Configuration hadoop, List<Ranked> out) throws IOException {
            while (paths.hasNext()) {
                String path = paths.next();
                ShardSlice slice = ShardSlice.parse(path);
                List<ImageRecord> records = slice.read(hadoop);
                int n = records.size();
                float[][][] probs = new float[members.size()][][];
                for (int m = 0; m < members.size(); m++) {
                    Member member = members.get(m);
                    ComputationGraph net = nets[m];
                    float[][] sum = new float[n][numClasses];
                    for (View view : views) {
                        INDArray x = ImageBatches.features(records, view.transform(member.imageSize), member.channels, member.imageSize, null);
                        INDArray p = net.output(false, x)[0];
                        for (int i = 0; i < n; i++) {
                            for (int c = 0; c < numClasses; c++) {
                                sum[i][c] += p.getFloat(i, c) / views.size();
                            }
                        }
                    }
                    probs[m] = sum;
                }
                for (int i = 0; i < n; i++) {
                    int[][] ranked = new int[members.size() + (members.size() > 1 ? 1 : 0)][];
                    for (int m = 0; m < members.size(); m++) {
                        ranked[m] = rank(probs[m][i]);
                    }
                    if (members.size() > 1) {
                        ranked[members.size()] = Ensembles.combine(rule, members, probs, i, numClasses);
                    }
                    int top = ranked[ranked.length - 1][0];
                    float confidence = 0;
                    for (int m = 0; m < members.size(); m++) {
                        confidence += probs[m][i][top] / members.size();
                    }
                    out.add(new Ranked(records.get(i).label, ranked, path, i, confidence));
                }
            }
        }
    }

    /** Class indices by decreasing score, the best {@value #RANKED}. */
    static int[] rank(float[] scores) {
        int k = Math.min(RANKED, scores.length);
        int[] best = new int[k];
        boolean[] taken = new boolean[scores.length];
        for (int j = 0; j < k; j++) {
            int arg = -1;
            for (int c = 0; c < scores.length; c++) {
                if (!taken[c] && (arg < 0 || scores[c] > scores[arg])) {
                    arg = c;
                }
            }
            taken[arg] = true;
            best[j] = arg;
        }
        return best;
    }

}
