package org.sparkzoo.jobs.train;

import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
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
import org.deeplearning4j.spark.impl.paramavg.stats.ParameterAveragingTrainingWorkerStats;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.sparkzoo.models.vertices.Masks;
import org.nd4j.linalg.learning.config.IUpdater;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * dl4j-spark's parameter averaging, changed at its seams so that a round costs little more than moving its bytes
 * (BENCHMARKS.md measures each change), and so that long runs train as they should:
 * <ul>
 * <li>{@code getWorkerInstance}: a worker keeps its network alive in the executor between rounds and only copies
 * the broadcast parameters, updater state and learning rate into it, instead of rebuilding the network from its
 * configuration every round (unless asked to rebuild); either way the network continues the driver's iteration
 * and epoch counts (stock dl4j-spark's rebuilt network restarts them: Adam's bias correction and the drop masks
 * restart every round), and draws its drop masks from its own stream (the round's partition index), so two
 * workers fitting the same iteration do not drop the same units;</li>
 * <li>{@code executeTrainingPaths}: train-job hands over exactly one round, one partition per worker, so the
 * round is one Spark job: no counting job, no random split, no repartition, and the workers' results are not
 * persisted (stock dl4j-spark caches them in the executors until the driver's GC cleans the RDD up);</li>
 * <li>each round's broadcast is destroyed once the round has been averaged, not left to the driver's GC;</li>
 * <li>the workers time their minibatches and count the examples they fitted into Spark accumulators
 * ({@link #lastRound()}), without dl4j-spark's training stats, whose event lists grow with the run.</li>
 * </ul>
 * Parameters and updater state travel through Spark's serializer: {@code BulkNd4jRegistrator} moves them in
 * blocks (ND4J's registrator writes one element at a time).
 */
public final class RoundTrainingMaster extends ParameterAveragingTrainingMaster {
    private static final long serialVersionUID = 1L;

    /** Driver-side: the round's broadcast and the workers' accumulators (registered on first use). */
    private transient Broadcast<NetBroadcastTuple> roundBroadcast;
    private transient LongAccumulator fitNanos;
    private transient LongAccumulator fittedExamples;
    private transient LongAccumulator fittedMinibatches;
    private transient CollectionAccumulator<String> executors;
    /** Minibatches fitted per executor ("host/executor id") since the start of this run. */
    private final transient Map<String, Long> minibatchesPerExecutor = new TreeMap<>();

    /** What the workers did in the last round, summed over workers. */
    public static final class RoundWork {
        public final double fitSeconds;
        public final long examples;
        public final long minibatches;

        RoundWork(double fitSeconds, long examples, long minibatches) {
            this.fitSeconds = fitSeconds;
            this.examples = examples;
            this.minibatches = minibatches;
        }
    }

    private final boolean reuseNetworks;

    /** Takes over every setting of a master made by dl4j-spark's builder. */
    public RoundTrainingMaster(ParameterAveragingTrainingMaster built, boolean reuseNetworks) {
        this.reuseNetworks = reuseNetworks;
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
        fitNanos.reset();
        fittedExamples.reset();
        fittedMinibatches.reset();
        executors.reset();
        try {
            if (collectTrainingStats) {
                stats.logFitStart();
                stats.logMapPartitionsStart();
            }
            Broadcast<SerializableHadoopConfig> hadoop = BroadcastHadoopConfigHolder.get(graph.getSparkContext());
            FlatMapFunction<Iterator<String>, ParameterAveragingTrainingResult> work = dsLoader != null
                    ? new ExecuteWorkerPathFlatMap<>(getWorkerInstance(graph), dsLoader, hadoop)
                    : new ExecuteWorkerPathMDSFlatMap<>(getWorkerInstance(graph), mdsLoader, hadoop);
            processResults(null, graph, paths.mapPartitions(work), 1, 1);
            if (collectTrainingStats) {
                stats.logMapPartitionsEnd(paths.getNumPartitions());
                stats.logFitEnd((int) fittedMinibatches.value().longValue());
            }
            for (String e : executors.value()) {
                int at = e.lastIndexOf('=');
                minibatchesPerExecutor.merge(e.substring(0, at), Long.parseLong(e.substring(at + 1)), Long::sum);
            }
        } finally {
            if (roundBroadcast != null) {
                roundBroadcast.destroy(); // blocking: the next round's broadcast does not pile up beside it
                roundBroadcast = null;
            }
        }
    }

    /** The workers' minibatch time, examples and minibatches of the last round. */
    public RoundWork lastRound() {
        return fitNanos == null ? new RoundWork(0, 0, 0)
                : new RoundWork(fitNanos.value() / 1e9, fittedExamples.value(), fittedMinibatches.value());
    }

    /** Which executors fitted how many minibatches so far: the proof that training was spread over the cluster. */
    public Map<String, Long> minibatchesPerExecutor() {
        return Collections.unmodifiableMap(minibatchesPerExecutor);
    }

    private void accumulators(JavaSparkContext sc) {
        if (fitNanos == null) {
            executors = sc.sc().collectionAccumulator("sparkzoo executors");
            fitNanos = sc.sc().longAccumulator("sparkzoo fit nanoseconds");
            fittedExamples = sc.sc().longAccumulator("sparkzoo fitted examples");
            fittedMinibatches = sc.sc().longAccumulator("sparkzoo fitted minibatches");
        }
    }

    @Override
    public ParameterAveragingTrainingWorker getWorkerInstance(SparkComputationGraph graph) {
        NetBroadcastTuple tuple = new NetBroadcastTuple(graph.getNetwork().getConfiguration(),
                graph.getNetwork().params(), graph.getNetwork().getUpdater().getStateViewArray());
        if (collectTrainingStats) {
            stats.logBroadcastStart();
        }
        Broadcast<NetBroadcastTuple> broadcast = graph.getSparkContext().broadcast(tuple);
        if (collectTrainingStats) {
            stats.logBroadcastEnd();
        }
        roundBroadcast = broadcast;
        accumulators(graph.getSparkContext());
        WorkerConfiguration configuration = new WorkerConfiguration(true, rddDataSetNumExamples, batchSizePerWorker,
                averagingFrequency, prefetchNumBatches, collectTrainingStats);
        return new Worker(broadcast, saveUpdater, configuration, trainingHookList, listeners, getRouterProvider(),
                reuseNetworks, fitNanos, fittedExamples, fittedMinibatches, executors);
    }

    /** A worker that takes its network from the executor's pool of idle ones when one of the same shape is there. */
    static final class Worker extends ParameterAveragingTrainingWorker {
        private static final long serialVersionUID = 1L;
        /** Idle networks by shape; each remembers the broadcast (round) it was last used in. */
        private static final Map<String, Deque<Idle>> IDLE = new ConcurrentHashMap<>();
        private static final Field STATS_FIELD = statsField();
        private final Broadcast<NetBroadcastTuple> tuple;
        private final boolean collectStats;
        private final boolean reuse;
        private final LongAccumulator fitNanos;
        private final LongAccumulator fittedExamples;
        private final LongAccumulator fittedMinibatches;
        private final CollectionAccumulator<String> executors;
        /** Minibatches this task fitted (Spark deserializes a worker per task). */
        private transient long taskMinibatches;

        Worker(Broadcast<NetBroadcastTuple> broadcast, boolean saveUpdater, WorkerConfiguration configuration,
               Collection<TrainingHook> hooks, Collection<TrainingListener> listeners, StatsStorageRouterProvider router,
               boolean reuse, LongAccumulator fitNanos, LongAccumulator fittedExamples, LongAccumulator fittedMinibatches,
               CollectionAccumulator<String> executors) {
            super(broadcast, saveUpdater, configuration, hooks, listeners, router);
            this.tuple = broadcast;
            this.collectStats = configuration.isCollectTrainingStats();
            this.reuse = reuse;
            this.fitNanos = fitNanos;
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

        private static final class Idle {
            final ComputationGraph net;
            final long round;

            Idle(ComputationGraph net, long round) {
                this.net = net;
                this.round = round;
            }
        }

        @Override
        public ComputationGraph getInitialModelGraph() {
            ParameterAveragingTrainingWorkerStats.ParameterAveragingTrainingWorkerStatsHelper helper = null;
            if (collectStats) {
                helper = new ParameterAveragingTrainingWorkerStats.ParameterAveragingTrainingWorkerStatsHelper();
                helper.logBroadcastGetValueStart();
            }
            NetBroadcastTuple t = tuple.getValue();
            if (helper != null) {
                helper.logBroadcastGetValueEnd();
            }
            String shape = shape(t);
            ComputationGraphConfiguration c = t.getGraphConfiguration();
            ComputationGraph net = reuse ? take(shape, tuple.id()) : null;
            if (net == null) {
                net = super.getInitialModelGraph(); // built from the configuration, as dl4j-spark does
            } else {
                double lr = learningRate(c);
                if (!Double.isNaN(lr)) {
                    net.setLearningRate(lr); // first: it rebuilds the updater, which would reset a state set before
                }
                net.params().assign(t.getParameters());
                if (t.getUpdaterState() != null && net.getUpdater().getStateViewArray() != null) {
                    net.getUpdater().getStateViewArray().assign(t.getUpdaterState());
                }
                setStats(helper);
                if (helper != null) {
                    helper.logInitEnd();
                }
            }
            net.getConfiguration().setIterationCount(c.getIterationCount());
            net.getConfiguration().setEpochCount(c.getEpochCount());
            TaskContext task = TaskContext.get();
            Masks.setWorkerStream(net, task == null ? 0 : task.partitionId());
            if (reuse) {
                release(shape, net, tuple.id());
            }
            countMinibatchesOfThisTask();
            return net;
        }

        /** At the task's end, "host/executor=minibatches" of this task into the executors accumulator. */
        private void countMinibatchesOfThisTask() {
            TaskContext ctx = TaskContext.get();
            if (ctx != null) {
                String executor = SparkEnv.get().blockManager().blockManagerId().host() + "/" + SparkEnv.get().executorId();
                ctx.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener)
                        context -> executors.add(executor + "=" + taskMinibatches));
            }
        }

        /** Back to the pool when the task ends; usable again only in a later round (its result aliases the params). */
        private static void release(String shape, ComputationGraph net, long round) {
            TaskContext ctx = TaskContext.get();
            if (ctx != null) {
                ctx.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener)
                        context -> IDLE.computeIfAbsent(shape, k -> new ConcurrentLinkedDeque<>()).add(new Idle(net, round)));
            }
        }

        private static ComputationGraph take(String shape, long round) {
            Deque<Idle> idle = IDLE.get(shape);
            if (idle == null) {
                return null;
            }
            for (Iterator<Idle> it = idle.iterator(); it.hasNext(); ) {
                Idle i = it.next();
                if (i.round != round && idle.remove(i)) {
                    return i.net;
                }
            }
            return null;
        }

        private static String shape(NetBroadcastTuple t) {
            ComputationGraphConfiguration c = t.getGraphConfiguration();
            return c.getVertices().keySet() + "|" + t.getParameters().length() + "|"
                    + (t.getUpdaterState() == null ? 0 : t.getUpdaterState().length());
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
