package org.sparkzoo.models.vertices;

import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.SplittableRandom;

/**
 * Randomness for drop-path style vertices that is a pure function of (network seed, epoch, iteration, salt):
 * the forward and backward passes of one step, and the repeated forward passes of a gradient check, see the same
 * mask, while every training step draws a new one. Vertices of one network that use the same salt see the same
 * draw, which is how FractalNet's global drop-path picks one column for the whole network.
 */
final class Masks {
    private Masks() {
    }

    static SplittableRandom random(ComputationGraph graph, long salt) {
        long seed = graph.getConfiguration().getDefaultConfiguration().getSeed();
        long step = ((long) graph.getConfiguration().getEpochCount() << 32) ^ graph.getConfiguration().getIterationCount();
        return new SplittableRandom(mix(mix(seed) ^ step) ^ mix(salt + 0x9E3779B97F4A7C15L));
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
