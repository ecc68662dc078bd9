package org.sparkzoo.jobs.train;

import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;
import org.datavec.spark.util.BroadcastHadoopConfigHolder;
import org.datavec.spark.util.SerializableHadoopConfig;
import org.deeplearning4j.core.loader.DataSetLoader;
import org.deeplearning4j.core.loader.MultiDataSetLoader;
import org.deeplearning4j.core.storage.StatsStorageRouterProvider;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.api.WorkerConfiguration;
import org.deeplearning4j.spark.api.worker.ExecuteWorkerPathFlatMap;
import org.deeplearning4j.spark.api.worker.ExecuteWorkerPathMDSFlatMap;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.BaseTrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingResult;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingWorker;
import org.deeplearning4j.spark.impl.paramavg.aggregator.ParameterAveragingAggregationTuple;
import org.deeplearning4j.spark.impl.paramavg.aggregator.ParameterAveragingElementAddFunction;
import org.deeplearning4j.spark.impl.paramavg.aggregator.ParameterAveragingElementCombineFunction;
import org.deeplearning4j.spark.impl.paramavg.stats.ParameterAveragingTrainingWorkerStats;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkzoo.models.training.ZooGraph;
import org.sparkzoo.models.training.LearningRates;
import org.sparkzoo.models.vertices.Masks;
import org.nd4j.linalg.learning.config.IUpdater;

import scala.Tuple2;
import scala.collection.JavaConverters;
import scala.reflect.ClassTag$;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Deque;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * dl4j-spark's parameter averaging, changed at its seams so that a round costs little more than moving its bytes
 * (BENCHMARKS.md measures each change), and so that long runs train as they should:
 * <ul>
 * <li>{@code getWorkerInstance}: a worker keeps its network alive in the executor between rounds and only copies
 * the broadcast parameters, updater state and learning rate into it (the rate in place: {@code LearningRates}),
 * instead of rebuilding the network from its configuration every round (unless asked to rebuild); either way the network continues the driver's iteration
 * and epoch counts (stock dl4j-spark's rebuilt network restarts them: Adam's bias correction and the drop masks
 * restart every round), and draws its drop masks from its own stream (the round's partition index), so two
 * workers fitting the same iteration do not drop the same units;</li>
 * <li>{@link #fitRound}: train-job hands over exactly one round, one partition per worker, so the round is one
 * Spark job: no counting job, no random split, no repartition, and the workers' results are not persisted (stock
 * dl4j-spark caches them in the executors until the driver's GC cleans the RDD up). Each partition prefers the
 * executor that fitted it last round, where {@link RoundData} has loaded its slices in the background while the
 * driver averaged;</li>
 * <li>the updater state can be averaged every few rounds only ({@code --updater-averaging-every}): in between,
 * each worker's kept network keeps its own, and only parameters travel (half the bytes with momentum, a third
 * with Adam);</li>
 * <li>with {@code --bf16-parameters}, parameters and updater state travel in bfloat16 both ways (half their
 * bytes): out, the driver's rounded to 8 significant bits, from which each worker's round starts; back, not the
 * worker's values but how far its round moved them (the updater state from the last state the driver sent). The
 * driver sums those changes in full precision and adds their mean to its own parameters and state, the one
 * full-precision copy, so the rounding never accumulates (mixed precision's master weights);</li>
 * <li>each round's broadcast is destroyed once the round has been averaged, not left to the driver's GC;</li>
 * <li>the workers time their set-up, data loading and minibatches and count the examples they fitted into Spark
 * accumulators ({@link #lastRound()}), without dl4j-spark's training stats, whose event lists grow with the run.</li>
 * </ul>
 * Parameters and updater state travel through Spark's serializer: {@code BulkNd4jRegistrator} moves them in
 * blocks (ND4J's registrator writes one element at a time).
 */
public final class RoundTrainingMaster extends ParameterAveragingTrainingMaster {
    private static final long serialVersionUID = 1L;

    /** Driver-side: the round's broadcast and the workers' accumulators (registered on first use). */
    private transient Broadcast<NetBroadcastTuple> roundBroadcast;
    private transient LongAccumulator fitNanos;
    private transient LongAccumulator setupNanos;
    private transient LongAccumulator loadNanos;
    private transient LongAccumulator prefetchedSlices;
    private transient LongAccumulator fittedExamples;
    private transient LongAccumulator fittedMinibatches;
    private transient CollectionAccumulator<String> executors;
    /** Minibatches fitted per executor ("host/executor id") since the start of this run. */
    private final transient Map<String, Long> minibatchesPerExecutor = new TreeMap<>();
    /** The executor that fitted each partition last round ("executor_host_id", Spark's executor location). */
    private final transient Map<Integer, String> executorOfPartition = new HashMap<>();
    /** The round {@link #fitRound} is fitting: its slices' next round, whether it averages the updater state. */
    private transient Round round;
    private transient long rounds;
    private final transient String runId = UUID.randomUUID().toString();
    /** Whether the driver's updater state is newer than the workers' (it was averaged in the last round). */
    private transient boolean updaterAveragedLastRound;
    private transient double broadcastSeconds;
    private transient double jobSeconds;

    /** What the workers and the driver did in the last round; worker times are summed over workers. */
    public static final class RoundWork {
        public final double fitSeconds;
        public final double setupSeconds;
        public final double loadSeconds;
        public final double broadcastSeconds;
        public final double jobSeconds;
        public final long examples;
        public final long minibatches;
        /** Slices the workers found loaded ahead, in the background, when they asked for them. */
        public final long prefetched;
        public final boolean updaterAveraged;

        RoundWork(double fitSeconds, double setupSeconds, double loadSeconds, double broadcastSeconds, double jobSeconds,
                  long examples, long minibatches, long prefetched, boolean updaterAveraged) {
            this.fitSeconds = fitSeconds;
            this.setupSeconds = setupSeconds;
            this.loadSeconds = loadSeconds;
            this.broadcastSeconds = broadcastSeconds;
            this.jobSeconds = jobSeconds;
            this.examples = examples;
            this.minibatches = minibatches;
            this.prefetched = prefetched;
            this.updaterAveraged = updaterAveraged;
        }
    }

    private static final class Round {
        final List<List<String>> next;
        final boolean averageUpdater;

        Round(List<List<String>> next, boolean averageUpdater) {
            this.next = next;
            this.averageUpdater = averageUpdater;
        }
    }

    private final boolean reuseNetworks;
    private final boolean bf16Parameters;

    /** Takes over every setting of a master made by dl4j-spark's builder. */
    public RoundTrainingMaster(ParameterAveragingTrainingMaster built, boolean reuseNetworks, boolean bf16Parameters) {
        this.reuseNetworks = reuseNetworks;
        this.bf16Parameters = bf16Parameters;
        for (Class<?> c = ParameterAveragingTrainingMaster.class; c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())) {
                    continue;
                }
                try {
                    f.setAccessible(true);
                    f.set(this, f.get(built));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException("cannot copy " + f + " of dl4j-spark's training master", e);
                }
            }
            if (c == BaseTrainingMaster.class) {
                break;
            }
        }
    }

    /**
     * Fits one averaging round: {@code partitions} are each worker's slices, {@code next} the slices each will fit
     * in the next round when that round uses the same loader (else empty): the workers load them in the background
     * once this round's task is done, and the next round's partition goes to the executor that has them. The
     * updater state is averaged (and then sent back out) only when {@code averageUpdater}; in other rounds each
     * worker keeps its own, and only parameters travel.
     */
    public void fitRound(SparkComputationGraph graph, List<List<String>> partitions, List<List<String>> next,
                         boolean averageUpdater, MultiDataSetLoader loader) {
        if (!averageUpdater && !reuseNetworks) {
            throw new IllegalArgumentException("a round without updater averaging needs workers that keep their networks");
        }
        List<Tuple2<List<String>, scala.collection.Seq<String>>> items = new ArrayList<>();
        for (int p = 0; p < partitions.size(); p++) {
            String executor = executorOfPartition.get(p);
            List<String> where = executor == null ? List.of() : List.of(executor);
            items.add(new Tuple2<>(new ArrayList<>(partitions.get(p)), JavaConverters.asScalaBuffer(where).toSeq()));
        }
        @SuppressWarnings("unchecked")
        RDD<List<String>> perWorker = graph.getSparkContext().sc().makeRDD(JavaConverters.asScalaBuffer(items).toSeq(),
                ClassTag$.MODULE$.apply(List.class));
        round = new Round(next, averageUpdater);
        try {
            graph.fitPaths(perWorker.toJavaRDD().flatMap(List::iterator), loader);
        } finally {
            round = null;
        }
    }

    /** One round: the paths are the round's slices, already in one partition per worker. */
    @Override
    public void executeTrainingPaths(SparkDl4jMultiLayer network, SparkComputationGraph graph, JavaRDD<String> paths,
                                     DataSetLoader dsLoader, MultiDataSetLoader mdsLoader) {
        if (graph == null) {
            super.executeTrainingPaths(network, graph, paths, dsLoader, mdsLoader);
            return;
        }
        if (numWorkers == null) {
            numWorkers = graph.getSparkContext().defaultParallelism();
        }
        accumulators(graph.getSparkContext());
        for (LongAccumulator a : List.of(fitNanos, setupNanos, loadNanos, prefetchedSlices, fittedExamples, fittedMinibatches)) {
            a.reset();
        }
        executors.reset();
        Round r = round != null ? round : new Round(List.of(), true);
        try {
            if (collectTrainingStats) {
                stats.logFitStart();
                stats.logMapPartitionsStart();
            }
            Broadcast<SerializableHadoopConfig> hadoop = BroadcastHadoopConfigHolder.get(graph.getSparkContext());
            ParameterAveragingTrainingWorker worker = worker(graph, rounds == 0 || updaterAveragedLastRound, r.averageUpdater);
            FlatMapFunction<Iterator<String>, ParameterAveragingTrainingResult> work = dsLoader != null
                    ? new ExecuteWorkerPathFlatMap<>(worker, dsLoader, hadoop)
                    : new ExecuteWorkerPathMDSFlatMap<>(worker, new RoundData(runId, mdsLoader, id(mdsLoader), rounds, r.next, loadNanos, prefetchedSlices), hadoop);
            long t0 = System.nanoTime();
            if (bf16Parameters) {
                averageDeltas(graph, paths.mapPartitions(work));
            } else {
                processResults(null, graph, paths.mapPartitions(work), 1, 1);
            }
            jobSeconds = (System.nanoTime() - t0) / 1e9;
            updaterAveragedLastRound = r.averageUpdater;
            rounds++;
            if (collectTrainingStats) {
                stats.logMapPartitionsEnd(paths.getNumPartitions());
                stats.logFitEnd((int) fittedMinibatches.value().longValue());
            }
            for (String e : executors.value()) {
                String[] f = e.split("\t");
                executorOfPartition.put(Integer.parseInt(f[0]), "executor_" + f[1] + "_" + f[2]);
                minibatchesPerExecutor.merge(f[1] + "/" + f[2], Long.parseLong(f[3]), Long::sum);
            }
        } finally {
            if (roundBroadcast != null) {
                roundBroadcast.destroy(); // blocking: the next round's broadcast does not pile up beside it
                roundBroadcast = null;
            }
        }
    }

    /**
     * dl4j-spark's {@code processResults} for workers that return the change of their parameters and updater state
     * over the round (bfloat16) instead of the values: the changes are summed in the parameters' precision
     * (dl4j-spark's own combining, after widening), and their mean is added to the driver's parameters and, when
     * sent, its updater state.
     */
    private void averageDeltas(SparkComputationGraph graph, JavaRDD<ParameterAveragingTrainingResult> results) {
        ComputationGraph net = graph.getNetwork();
        DataType type = net.params().dataType();
        ParameterAveragingAggregationTuple sum = Widening.widen(results.treeAggregate(null,
                new ParameterAveragingElementAddFunction(), new Widening(type), aggregationDepth), type);
        if (sum == null || sum.getParametersSum() == null) {
            return; // no worker had data: nothing moved (dl4j-spark skips such a split too)
        }
        int count = sum.getAggregationsCount();
        net.params().addi(sum.getParametersSum().divi(count));
        INDArray updaterState = sum.getUpdaterStateSum();
        if (updaterState != null) {
            net.getUpdater().getStateViewArray().addi(updaterState.divi(count)); // a change too: the master copy moves
        }
        graph.setScore(sum.getScoreSum() / count);
        if (collectTrainingStats) {
            stats.addWorkerStats(sum.getSparkTrainingStats());
        }
        Nd4j.getExecutioner().commit();
        ComputationGraphConfiguration conf = net.getConfiguration();
        conf.setIterationCount(conf.getIterationCount() + averagingFrequency);
    }

    /**
     * dl4j-spark's combining of two partial sums, after widening bfloat16 changes (parameters, updater state) to the
     * parameters' type; a sum combined with nothing passes through as it is (still bfloat16).
     */
    static final class Widening implements Function2<ParameterAveragingAggregationTuple, ParameterAveragingAggregationTuple,
            ParameterAveragingAggregationTuple> {
        private static final long serialVersionUID = 1L;
        private final DataType type;
        private final ParameterAveragingElementCombineFunction combine = new ParameterAveragingElementCombineFunction();

        Widening(DataType type) {
            this.type = type;
        }

        @Override
        public ParameterAveragingAggregationTuple call(ParameterAveragingAggregationTuple a, ParameterAveragingAggregationTuple b)
                throws Exception {
            if (a == null || b == null) {
                // Spark's fold also runs this in each task, against its empty start value: widening there would
                // send the task's result at full width
                return a == null ? b : a;
            }
            return combine.call(widen(a, type), widen(b, type));
        }

        static ParameterAveragingAggregationTuple widen(ParameterAveragingAggregationTuple t, DataType type) {
            if (t == null || t.getParametersSum() == null || t.getParametersSum().dataType() == type) {
                return t;
            }
            INDArray state = t.getUpdaterStateSum();
            return new ParameterAveragingAggregationTuple(t.getParametersSum().castTo(type),
                    state == null || state.dataType() == type ? state : state.castTo(type),
                    t.getScoreSum(), t.getAggregationsCount(), t.getSparkTrainingStats(), t.getListenerMetaData(),
                    t.getListenerStaticInfo(), t.getListenerUpdates());
        }
    }

    /** A digest of the loader as the workers receive it: equal digests load a slice to equal minibatches. */
    private static String id(MultiDataSetLoader loader) {
        try (ByteArrayOutputStream bytes = new ByteArrayOutputStream(); ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(loader);
            out.flush();
            return new BigInteger(1, MessageDigest.getInstance("SHA-256").digest(bytes.toByteArray())).toString(16);
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot serialize the training data loader " + loader.getClass().getName(), e);
        }
    }

    /** The workers' and the driver's times, examples and minibatches of the last round. */
    public RoundWork lastRound() {
        return fitNanos == null ? new RoundWork(0, 0, 0, 0, 0, 0, 0, 0, true)
                : new RoundWork(fitNanos.value() / 1e9, setupNanos.value() / 1e9, loadNanos.value() / 1e9, broadcastSeconds,
                jobSeconds, fittedExamples.value(), fittedMinibatches.value(), prefetchedSlices.value(),
                updaterAveragedLastRound);
    }

    /** Which executors fitted how many minibatches so far: the proof that training was spread over the cluster. */
    public Map<String, Long> minibatchesPerExecutor() {
        return Collections.unmodifiableMap(minibatchesPerExecutor);
    }

    private void accumulators(JavaSparkContext sc) {
        if (fitNanos == null) {
            executors = sc.sc().collectionAccumulator("sparkzoo executors");
            fitNanos = sc.sc().longAccumulator("sparkzoo fit nanoseconds");
            setupNanos = sc.sc().longAccumulator("sparkzoo worker setup nanoseconds");
            loadNanos = sc.sc().longAccumulator("sparkzoo data load nanoseconds");
            prefetchedSlices = sc.sc().longAccumulator("sparkzoo slices loaded ahead");
            fittedExamples = sc.sc().longAccumulator("sparkzoo fitted examples");
            fittedMinibatches = sc.sc().longAccumulator("sparkzoo fitted minibatches");
        }
    }

    @Override
    public ParameterAveragingTrainingWorker getWorkerInstance(SparkComputationGraph graph) {
        return worker(graph, true, true);
    }

    /** The round's worker; the broadcast carries the updater state only when it is newer than the workers' own. */
    private ParameterAveragingTrainingWorker worker(SparkComputationGraph graph, boolean sendUpdater, boolean averageUpdater) {
        NetBroadcastTuple tuple = new NetBroadcastTuple(graph.getNetwork().getConfiguration(),
                narrowed(graph.getNetwork().params()),
                sendUpdater ? narrowed(graph.getNetwork().getUpdater().getStateViewArray()) : null);
        if (collectTrainingStats) {
            stats.logBroadcastStart();
        }
        long t0 = System.nanoTime();
        Broadcast<NetBroadcastTuple> broadcast = graph.getSparkContext().broadcast(tuple);
        broadcastSeconds = (System.nanoTime() - t0) / 1e9;
        if (collectTrainingStats) {
            stats.logBroadcastEnd();
        }
        roundBroadcast = broadcast;
        accumulators(graph.getSparkContext());
        WorkerConfiguration configuration = new WorkerConfiguration(true, rddDataSetNumExamples, batchSizePerWorker,
                averagingFrequency, prefetchNumBatches, collectTrainingStats);
        return new Worker(broadcast, saveUpdater && averageUpdater, configuration, trainingHookList, listeners,
                getRouterProvider(), reuseNetworks, bf16Parameters, runId, fitNanos, setupNanos, fittedExamples, fittedMinibatches, executors);
    }

    /** What travels of the driver's float32 array: itself, or with --bf16-parameters rounded to bfloat16. */
    private INDArray narrowed(INDArray a) {
        return bf16Parameters && a != null ? a.castTo(DataType.BFLOAT16) : a;
    }

    static final class Worker extends ParameterAveragingTrainingWorker {
        private static final long serialVersionUID = 1L;
        /** Idle networks by run and shape; each remembers the broadcast (round) it was last used in. */
        private static final Map<String, Deque<Idle>> IDLE = new ConcurrentHashMap<>();
        private static final Field STATS_FIELD = statsField();
        private final Broadcast<NetBroadcastTuple> tuple;
        private final boolean collectStats;
        private final boolean reuse;
        private final boolean bf16Parameters;
        /** This task's network and, with bfloat16 parameters, the buffers its round's change is computed in. */
        private transient Kept kept;
        /** The training run: networks are kept for the rounds of one run only (another may differ in any setting). */
        private final String run;
        private final LongAccumulator fitNanos;
        private final LongAccumulator setupNanos;
        private final LongAccumulator fittedExamples;
        private final LongAccumulator fittedMinibatches;
        private final CollectionAccumulator<String> executors;
        /** Minibatches this task fitted (Spark deserializes a worker per task). */
        private transient long taskMinibatches;

        Worker(Broadcast<NetBroadcastTuple> broadcast, boolean saveUpdater, WorkerConfiguration configuration,
               Collection<TrainingHook> hooks, Collection<TrainingListener> listeners, StatsStorageRouterProvider router,
               boolean reuse, boolean bf16Parameters, String run, LongAccumulator fitNanos, LongAccumulator setupNanos, LongAccumulator fittedExamples,
               LongAccumulator fittedMinibatches, CollectionAccumulator<String> executors) {
            super(broadcast, saveUpdater, configuration, hooks, listeners, router);
            this.tuple = broadcast;
            this.collectStats = configuration.isCollectTrainingStats();
            this.reuse = reuse;
            this.bf16Parameters = bf16Parameters;
            this.run = run;
            this.fitNanos = fitNanos;
            this.setupNanos = setupNanos;
            this.fittedExamples = fittedExamples;
            this.fittedMinibatches = fittedMinibatches;
            this.executors = executors;
        }

        /** Every minibatch of a graph passes here (the DataSet variants convert and call it). */
        @Override
        public ParameterAveragingTrainingResult processMinibatch(MultiDataSet minibatch, ComputationGraph graph, boolean isLast) {
            long t0 = System.nanoTime();
            ParameterAveragingTrainingResult result = super.processMinibatch(minibatch, graph, isLast);
            fitNanos.add(System.nanoTime() - t0);
            fittedExamples.add(minibatch.getFeatures(0).size(0));
            fittedMinibatches.add(1);
            taskMinibatches++;
            return result;
        }

        /** With bfloat16 parameters: the round's change of the parameters (and updater state, when sent) instead of the values. */
        @Override
        public ParameterAveragingTrainingResult getFinalResult(ComputationGraph graph) {
            ParameterAveragingTrainingResult r = super.getFinalResult(graph);
            if (!bf16Parameters || r.getParameters() == null) {
                return r;
            }
            INDArray state = r.getUpdaterState() == null ? null : kept.stateMoved.assign(kept.stateStart.rsubi(r.getUpdaterState()));
            return new ParameterAveragingTrainingResult(kept.moved.assign(kept.start.rsubi(r.getParameters())), state,
                    r.getScore(), r.getSparkTrainingStats(),
                    r.getListenerMetaData(), r.getListenerStaticInfo(), r.getListenerUpdates());
        }

        /**
         * A worker's network, kept between rounds; with bfloat16 parameters also where its parameters and updater
         * state started (the last broadcast of each, widened; a new network's own initial state until the driver
         * sends one) and the bfloat16 changes it sends back: buffers reused every round (a fresh 100 MB array costs
         * more than filling one). Each start buffer becomes the change (in place) when the result is made.
         */
        private static final class Kept {
            final ComputationGraph net;
            final INDArray start;
            final INDArray moved;
            final INDArray stateStart;
            final INDArray stateMoved;

            Kept(ComputationGraph net, boolean bf16Parameters) {
                this.net = net;
                INDArray state = net.getUpdater().getStateViewArray();
                boolean hasState = bf16Parameters && state != null;
                this.start = bf16Parameters ? net.params().ulike() : null;
                this.moved = bf16Parameters ? Nd4j.createUninitialized(DataType.BFLOAT16, net.params().shape()) : null;
                this.stateStart = hasState ? state.dup() : null;
                this.stateMoved = hasState ? Nd4j.createUninitialized(DataType.BFLOAT16, state.shape()) : null;
            }
        }

        private static final class Idle {
            final Kept kept;
            final long round;

            Idle(Kept kept, long round) {
                this.kept = kept;
                this.round = round;
            }
        }

        @Override
        public ComputationGraph getInitialModelGraph() {
            long t0 = System.nanoTime();
            ComputationGraph net = initialModel();
            setupNanos.add(System.nanoTime() - t0);
            return net;
        }

        /** The round's network: the broadcast parameters (and updater state, when sent) in a kept or a new network. */
        private ComputationGraph initialModel() {
            ParameterAveragingTrainingWorkerStats.ParameterAveragingTrainingWorkerStatsHelper helper = null;
            if (collectStats) {
                helper = new ParameterAveragingTrainingWorkerStats.ParameterAveragingTrainingWorkerStatsHelper();
                helper.logBroadcastGetValueStart();
            }
            NetBroadcastTuple t = tuple.getValue();
            if (helper != null) {
                helper.logBroadcastGetValueEnd();
            }
            ComputationGraphConfiguration c = t.getGraphConfiguration();
            String shape = run + "|" + shape(t);
            kept = reuse ? take(run, shape, tuple.id()) : null;
            if (kept == null) {
                // as dl4j-spark builds it, with sparkzoo's kernels (ZooGraph)
                ComputationGraph built = new ZooGraph(c.clone());
                INDArray p = t.getParameters();
                built.init(p.dataType() == c.getDataType() ? p.dup() : p.castTo(c.getDataType()), false); // its own copy
                kept = new Kept(built, bf16Parameters);
            } else {
                double lr = learningRate(c);
                if (!Double.isNaN(lr)) {
                    LearningRates.set(kept.net, lr);
                }
                kept.net.params().assign(t.getParameters()); // bfloat16 ones widened on the way
            }
            ComputationGraph net = kept.net;
            if (bf16Parameters) {
                // the round starts at the driver's parameters rounded to 8 bits: its change is measured from there
                kept.start.assign(net.params());
            }
            INDArray state = net.getUpdater().getStateViewArray();
            if (t.getUpdaterState() != null && state != null) {
                state.assign(t.getUpdaterState()); // into the network's own state, bfloat16 widened on the way
                if (bf16Parameters) {
                    kept.stateStart.assign(state);
                }
            }
            setStats(helper); // dl4j-spark's own build sets its stats helper; this one sets it here
            if (helper != null) {
                helper.logInitEnd();
            }
            net.getConfiguration().setIterationCount(c.getIterationCount());
            net.getConfiguration().setEpochCount(c.getEpochCount());
            TaskContext task = TaskContext.get();
            Masks.setWorkerStream(net, task == null ? 0 : task.partitionId());
            if (reuse) {
                release(shape, kept, tuple.id());
            }
            countMinibatchesOfThisTask();
            return net;
        }

        /** At the task's end, "partition, host, executor id, minibatches" of this task into the executors accumulator. */
        private void countMinibatchesOfThisTask() {
            TaskContext ctx = TaskContext.get();
            if (ctx != null) {
                String executor = ctx.partitionId() + "\t" + SparkEnv.get().blockManager().blockManagerId().host()
                        + "\t" + SparkEnv.get().executorId();
                ctx.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener)
                        context -> executors.add(executor + "\t" + taskMinibatches));
            }
        }

        /** Back to the pool when the task ends; usable again only in a later round (its result aliases the params). */
        private static void release(String shape, Kept kept, long round) {
            TaskContext ctx = TaskContext.get();
            if (ctx != null) {
                ctx.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener)
                        context -> IDLE.computeIfAbsent(shape, k -> new ConcurrentLinkedDeque<>()).add(new Idle(kept, round)));
            }
        }

        private static Kept take(String run, String shape, long round) {
            IDLE.keySet().removeIf(k -> !k.startsWith(run + "|")); // networks of runs that are over
            Deque<Idle> idle = IDLE.get(shape);
            if (idle == null) {
                return null;
            }
            for (Iterator<Idle> it = idle.iterator(); it.hasNext(); ) {
                Idle i = it.next();
                if (i.round != round && idle.remove(i)) {
                    return i.kept;
                }
            }
            return null;
        }

        private static String shape(NetBroadcastTuple t) {
            ComputationGraphConfiguration c = t.getGraphConfiguration();
            return c.getVertices().keySet() + "|" + t.getParameters().length(); // with or without the updater state
        }

        /** The learning rate the driver set for this round (all layers share it: train-job sets it globally). */
        static double learningRate(ComputationGraphConfiguration c) {
            for (GraphVertex v : c.getVertices().values()) {
                if (v instanceof LayerVertex && ((LayerVertex) v).getLayerConf().getLayer() instanceof BaseLayer) {
                    IUpdater u = ((BaseLayer) ((LayerVertex) v).getLayerConf().getLayer()).getIUpdater();
                    if (u != null && u.hasLearningRate()) {
                        return u.getLearningRate(c.getIterationCount(), c.getEpochCount());
                    }
                }
            }
            return Double.NaN;
        }

        private void setStats(ParameterAveragingTrainingWorkerStats.ParameterAveragingTrainingWorkerStatsHelper helper) {
            try {
                STATS_FIELD.set(this, helper);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }

        private static Field statsField() {
            try {
                Field f = ParameterAveragingTrainingWorker.class.getDeclaredField("stats");
                f.setAccessible(true);
                return f;
            } catch (NoSuchFieldException e) {
                throw new IllegalStateException("dl4j-spark's worker changed: no 'stats' field", e);
            }
        }
    }
}
