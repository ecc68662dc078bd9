package org.sparkzoo.jobs.train;

import org.apache.spark.TaskContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.core.storage.StatsStorageRouterProvider;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.api.WorkerConfiguration;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.BaseTrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingWorker;
import org.deeplearning4j.spark.impl.paramavg.stats.ParameterAveragingTrainingWorkerStats;
import org.nd4j.linalg.learning.config.IUpdater;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Collection;
import java.util.Deque;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * dl4j-spark's parameter averaging with one change at its seam ({@code getWorkerInstance}): a worker keeps its
 * network alive in the executor between rounds and only copies the broadcast parameters, updater state and
 * learning rate into it, instead of rebuilding the whole network from its configuration every round.
 * Measured on ResNet-50 (BENCHMARKS.md): the rebuild cost seconds per round, most of a round's fixed cost.
 */
public final class ReusingTrainingMaster extends ParameterAveragingTrainingMaster {
    private static final long serialVersionUID = 1L;

    /** Takes over every setting of a master made by dl4j-spark's builder. */
    public ReusingTrainingMaster(ParameterAveragingTrainingMaster built) {
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
        WorkerConfiguration configuration = new WorkerConfiguration(true, rddDataSetNumExamples, batchSizePerWorker,
                averagingFrequency, prefetchNumBatches, collectTrainingStats);
        return new Worker(broadcast, saveUpdater, configuration, trainingHookList, listeners, getRouterProvider());
    }

    /** A worker that takes its network from the executor's pool of idle ones when one of the same shape is there. */
    static final class Worker extends ParameterAveragingTrainingWorker {
        private static final long serialVersionUID = 1L;
        /** Idle networks by shape; each remembers the broadcast (round) it was last used in. */
        private static final Map<String, Deque<Idle>> IDLE = new ConcurrentHashMap<>();
        private static final Field STATS_FIELD = statsField();
        private final Broadcast<NetBroadcastTuple> tuple;
        private final boolean collectStats;

        Worker(Broadcast<NetBroadcastTuple> broadcast, boolean saveUpdater, WorkerConfiguration configuration,
               Collection<TrainingHook> hooks, Collection<TrainingListener> listeners, StatsStorageRouterProvider router) {
            super(broadcast, saveUpdater, configuration, hooks, listeners, router);
            this.tuple = broadcast;
            this.collectStats = configuration.isCollectTrainingStats();
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
            ComputationGraph net = take(shape, tuple.id());
            if (net == null) {
                net = super.getInitialModelGraph(); // first round in this JVM: build it as dl4j-spark does
            } else {
                ComputationGraphConfiguration c = t.getGraphConfiguration();
                net.getConfiguration().setIterationCount(c.getIterationCount());
                net.getConfiguration().setEpochCount(c.getEpochCount());
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
            release(shape, net, tuple.id());
            return net;
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
