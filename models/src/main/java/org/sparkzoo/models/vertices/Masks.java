package org.sparkzoo.models.vertices;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;

import java.util.SplittableRandom;

/**
 * Randomness for the dropout and drop-path vertices that is a pure function of (network seed, worker stream, epoch,
 * iteration, salt): the forward and backward passes of one step, and the repeated forward passes of a gradient
 * check, see the same mask, while every training step draws a new one. Vertices of one network that use the same
 * salt see the same draw, which is how FractalNet's global drop-path picks one column for the whole network.
 * <p>
 * The worker stream tells apart networks that fit the same iteration at the same time: the workers of a
 * parameter-averaging round all start from the same iteration count, and without their own stream they would drop
 * the same paths. A trainer calls {@link #setWorkerStream} on each worker's network (for example with the Spark
 * partition index) after building or cloning it and before fitting; it is kept by that network instance only (not
 * in its configuration, so not in a checkpoint), and a network that never had it set uses stream 0.
 */
public final class Masks {
    private Masks() {
    }

    /** A vertex that draws masks and keeps its network's worker stream. */
    interface Drawing {
        void setWorkerStream(long stream);

        long workerStream();
    }

    /** Gives every mask-drawing vertex of {@code net} the worker stream {@code stream}; same (seed, stream, iteration) = same masks. */
    public static void setWorkerStream(ComputationGraph net, long stream) {
        for (GraphVertex v : net.getVertices()) {
            if (v instanceof Drawing) {
                ((Drawing) v).setWorkerStream(stream);
            }
        }
    }

    /** The worker stream of {@code net}'s mask-drawing vertices (0 if it has none or none was set). */
    public static long workerStream(ComputationGraph net) {
        for (GraphVertex v : net.getVertices()) {
            if (v instanceof Drawing) {
                return ((Drawing) v).workerStream();
            }
        }
        return 0;
    }

    static SplittableRandom random(ComputationGraph graph, long stream, long salt) {
        long seed = graph.getConfiguration().getDefaultConfiguration().getSeed();
        long step = ((long) graph.getConfiguration().getEpochCount() << 32) ^ graph.getConfiguration().getIterationCount();
        long perWorker = mix(mix(mix(seed) ^ step) ^ mix(stream + 0x632BE59BD9B4E019L));
        return new SplittableRandom(perWorker ^ mix(salt + 0x9E3779B97F4A7C15L));
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
