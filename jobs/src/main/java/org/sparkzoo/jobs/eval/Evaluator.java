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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkzoo.dataprep.ImageRecord;
import org.sparkzoo.dataprep.Manifest;
import org.sparkzoo.dataprep.ShardReader;
import org.sparkzoo.jobs.JobMain.UserError;
import org.sparkzoo.jobs.train.Checkpoints;
import org.sparkzoo.jobs.train.ImageBatches;
import org.sparkzoo.jobs.train.ShardSlice;
import org.sparkzoo.jobs.train.TrainState;
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
    private static final Logger log = LoggerFactory.getLogger(Evaluator.class);
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

        Member(String uri, String name, int imageSize, int channels, double weight) {
            this.uri = uri;
            this.name = name;
            this.imageSize = imageSize;
            this.channels = channels;
            this.weight = weight;
        }
    }

    /** What comes back per image: its label and, per member and then for the ensemble, the best classes first. */
    static final class Ranked implements Serializable {
        private static final long serialVersionUID = 1L;
        final int label;
        final int[][] ranked;

        Ranked(int label, int[][] ranked) {
            this.label = label;
            this.ranked = ranked;
        }
    }

    public static EvalResult evaluate(SparkSession spark, List<String> checkpointUris, String dataUri, EvalOptions o) throws IOException {
        long t0 = System.nanoTime();
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        Manifest manifest = Manifest.read(dataUri, hadoop);
        Manifest.Split split = manifest.split(o.split);
        List<String> wnids = manifest.classes().stream().map(c -> c.wnid).collect(Collectors.toList());
        List<String> names = manifest.classes().stream().map(c -> c.name).collect(Collectors.toList());
        List<Member> members = members(checkpointUris, hadoop, wnids, dataUri, o);
        List<View> views = View.parse(o.views, o.resizeRatio);

        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<String> slices = ShardSlice.cut(dataUri, split, o.sliceRows).stream().map(ShardSlice::path).collect(Collectors.toList());
        Broadcast<SerializableConfiguration> conf = sc.broadcast(new SerializableConfiguration(hadoop));
        JavaRDD<String> rdd = sc.parallelize(slices, Math.max(1, slices.size()));
        List<Ranked> ranked = rdd.mapPartitions(new ScoreSlices(members, views, o.ensemble, wnids.size(), conf)).collect();

        EvalResult result = new EvalResult(wnids, names);
        for (Member m : members) {
            result.members.add(new EvalResult.Scores(m.name, wnids.size()));
        }
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
        result.seconds = (System.nanoTime() - t0) / 1e9;
        return result;
    }

    /** Reads each checkpoint's state on the driver and refuses members that do not fit the data. */
    private static List<Member> members(List<String> uris, Configuration hadoop, List<String> wnids, String dataUri, EvalOptions o) throws IOException {
        if (uris.isEmpty()) {
            throw new UserError("no checkpoints given: pass --checkpoints run/model.zip[,other/model.zip...]");
        }
        if ("weighted".equals(o.ensemble) && o.weights.size() != uris.size()) {
            throw new UserError("--ensemble weighted needs one --weights value per checkpoint (" + uris.size() + "), got " + o.weights.size());
        }
        List<Member> members = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < uris.size(); i++) {
            String uri = uris.get(i);
            TrainState state;
            try {
                if (!new org.apache.hadoop.fs.Path(uri).getFileSystem(hadoop).exists(new org.apache.hadoop.fs.Path(uri))) {
                    throw new UserError("checkpoint " + uri + " does not exist; pass a model.zip or checkpoints/ckpt-*.zip that train-job wrote");
                }
                state = Checkpoints.readState(uri, hadoop);
            } catch (UserError e) {
                throw e;
            } catch (IOException | RuntimeException e) {
                throw new UserError("checkpoint " + uri + " is corrupt or not a train-job checkpoint (" + e.getMessage() + ")", e);
            }
            if (!state.classes.equals(wnids)) {
                throw new UserError("checkpoint " + uri + " was trained on " + state.classes.size() + " classes that differ from the "
                        + wnids.size() + " classes of " + dataUri + "'s manifest; evaluate it on the dataset it was trained on");
            }
            ModelSpec spec = ModelRegistry.get(state.model);
            if (state.imageSize < spec.minInputSize) {
                throw new UserError("checkpoint " + uri + " uses " + state.imageSize + "px inputs, below " + spec.name + "'s minimum of " + spec.minInputSize);
            }
            String name = state.model + "@" + state.imageSize;
            int n = seen.merge(name, 1, Integer::sum);
            members.add(new Member(uri, n == 1 ? name : name + "#" + n, state.imageSize, state.channels,
                    "weighted".equals(o.ensemble) ? o.weights.get(i) : 1.0));
        }
        return members;
    }

    /** Executor side: scores the slices of one partition with every member. */
    static final class ScoreSlices implements FlatMapFunction<Iterator<String>, Ranked> {
        private static final long serialVersionUID = 1L;
        private static final ThreadLocal<Map<String, ComputationGraph>> NETWORKS = ThreadLocal.withInitial(HashMap::new);
        private final List<Member> members;
        private final List<View> views;
        private final String rule;
        private final int numClasses;
        private final Broadcast<SerializableConfiguration> conf;

        ScoreSlices(List<Member> members, List<View> views, String rule, int numClasses, Broadcast<SerializableConfiguration> conf) {
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
            while (paths.hasNext()) {
                ShardSlice slice = ShardSlice.parse(paths.next());
                List<ImageRecord> records = ShardReader.read(slice.shard, hadoop, slice.offset, slice.count);
                int n = records.size();
                float[][][] probs = new float[members.size()][][];
                for (int m = 0; m < members.size(); m++) {
                    Member member = members.get(m);
                    ComputationGraph net = NETWORKS.get().computeIfAbsent(member.uri, u -> Checkpoints.load(u, hadoop, false).network);
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
                    out.add(new Ranked(records.get(i).label, ranked));
                }
            }
            return out.iterator();
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

    static Logger log() {
        return log;
    }
}
