package org.sparkzoo.jobs.eval;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The networks one JVM's eval tasks score with, shared by its task threads: a task borrows one network per member
 * and gives it back, so a member is loaded at most once per concurrently running task. Only the current
 * evaluation's networks are kept: the first task of a new evaluation closes every idle network of an earlier one,
 * and a network still lent out when its evaluation ends is closed on its return. train-job validates a new
 * checkpoint every epoch; a cache keyed by checkpoint alone kept one more network per epoch in every executor
 * thread until off-heap memory ran out.
 */
final class NetworkPool {
    private static final Object LOCK = new Object();
    /** The evaluation whose networks are kept; null before the first. */
    private static String current;
    /** Idle networks of the current evaluation, by checkpoint URI. */
    private static final Map<String, Deque<ComputationGraph>> IDLE = new HashMap<>();
    /** Networks lent to running tasks, with the evaluation they were loaded for. */
    private static final Map<ComputationGraph, String> LENT = new IdentityHashMap<>();

    private NetworkPool() {
    }

    /** A network of {@code uri} for {@code evaluation}: an idle one if there is one, else {@code load}'s. */
    static ComputationGraph borrow(String evaluation, String uri, Supplier<ComputationGraph> load) {
        List<ComputationGraph> stale = new ArrayList<>();
        ComputationGraph net = null;
        synchronized (LOCK) {
            if (!evaluation.equals(current)) {
                current = evaluation;
                IDLE.values().forEach(stale::addAll);
                IDLE.clear();
            }
            Deque<ComputationGraph> idle = IDLE.get(uri);
            if (idle != null && !idle.isEmpty()) {
                net = idle.pop();
                LENT.put(net, evaluation);
            }
        }
        stale.forEach(NetworkPool::free);
        if (net == null) {
            net = Objects.requireNonNull(load.get());
            synchronized (LOCK) {
                LENT.put(net, evaluation);
            }
        }
        return net;
    }

    /** Returns a borrowed network: kept for the current evaluation, closed if its evaluation has ended. */
    static void giveBack(String uri, ComputationGraph net) {
        boolean keep;
        synchronized (LOCK) {
            String evaluation = LENT.remove(net);
            keep = evaluation != null && evaluation.equals(current);
            if (keep) {
                IDLE.computeIfAbsent(uri, u -> new ArrayDeque<>()).push(net);
            }
        }
        if (!keep) {
            free(net);
        }
    }

    /** Networks held (idle and lent), by checkpoint URI for the idle ones: what the tests check. */
    static Map<String, Integer> idleByUri() {
        synchronized (LOCK) {
            Map<String, Integer> m = new HashMap<>();
            IDLE.forEach((uri, q) -> m.put(uri, q.size()));
            return m;
        }
    }

    static int lent() {
        synchronized (LOCK) {
            return LENT.size();
        }
    }

    /**
     * Frees the network's parameters (off-heap) now rather than whenever the GC finds them. The flattened parameters
     * are a view, so it is their underlying buffer that is closed. Not {@code ComputationGraph.close()}: it also
     * destroys the calling thread's workspaces, which in local mode belong to a training worker too, and forces a
     * full GC. An eval network has no gradients or updater state.
     */
    static void free(ComputationGraph net) {
        INDArray params = net.params();
        DataBuffer buffer = params.data().originalDataBuffer() != null ? params.data().originalDataBuffer() : params.data();
        if (!buffer.wasClosed() && buffer.closeable()) {
            buffer.close();
        }
    }
}
