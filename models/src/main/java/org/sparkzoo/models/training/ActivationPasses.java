package org.sparkzoo.models.training;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/**
 * Runs a loop over the planes (or channels) of an activation on as many threads as ND4J's native kernels use
 * ({@code Nd4j.getEnvironment().maxThreads()}, i.e. OpenMP's count: 1 in a cluster's one-core executors, 2 in
 * {@code scripts/bench-kernels} on two cores), so that the Java passes of {@link BatchNormHelper} use the cores
 * the native ones would have. Loops over fewer than {@link #MIN_ELEMENTS_PER_THREAD} elements a thread run on the
 * calling thread: handing work to another thread costs tens of microseconds.
 */
final class ActivationPasses {
    /** Below this many elements per thread a loop runs on the calling thread. */
    static final long MIN_ELEMENTS_PER_THREAD = 1 << 16;
    private static ForkJoinPool pool;
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[3][0]);

    private ActivationPasses() {
    }

    /** The body of a loop: items {@code from} (inclusive) to {@code to} (exclusive). */
    interface Range {
        void run(int from, int to);
    }

    /**
     * Runs {@code body} over items 0..count-1, each {@code elementsPerItem} elements, split into equal ranges between
     * the threads: the calling thread runs the first range itself while the pool's threads run the others, so that a
     * pass on two threads wakes one pool thread, and the caller, which goes on with the training step, never sleeps.
     */
    static void forEach(int count, long elementsPerItem, Range body) {
        int threads = (int) Math.min(Math.min(threads(), count), (long) count * elementsPerItem / MIN_ELEMENTS_PER_THREAD);
        if (threads <= 1) {
            body.run(0, count);
            return;
        }
        ForkJoinPool helpers = pool(threads - 1);
        ForkJoinTask<?>[] others = new ForkJoinTask<?>[threads - 1];
        for (int t = 1; t < threads; t++) {
            int from = bound(count, t, threads), to = bound(count, t + 1, threads);
            others[t - 1] = helpers.submit(() -> body.run(from, to));
        }
        body.run(0, bound(count, 1, threads));
        for (ForkJoinTask<?> other : others) {
            other.join();
        }
    }

    private static int bound(int count, int part, int parts) {
        return (int) ((long) count * part / parts);
    }

    /**
     * A float array of at least {@code length} elements, this thread's own in {@code slot} (0-2): the passes copy a
     * plane into it in bulk, compute over Java arrays, which the JIT vectorises, and copy the result back in bulk,
     * 1.5x faster than reading and writing the native buffer element by element.
     */
    static float[] scratch(int slot, int length) {
        float[][] arrays = SCRATCH.get();
        if (arrays[slot].length < length) {
            arrays[slot] = new float[length];
        }
        return arrays[slot];
    }

    /** {@code a} itself if it is C-ordered with default strides (what the passes index), else a C-ordered copy. */
    static INDArray contiguous(INDArray a) {
        return a.ordering() == 'c' && Shape.hasDefaultStridesForShape(a) ? a : a.dup('c');
    }

    private static int threads() {
        return Math.max(1, Nd4j.getEnvironment().maxThreads());
    }

    private static synchronized ForkJoinPool pool(int threads) {
        if (pool == null || pool.getParallelism() < threads) {
            ForkJoinPool previous = pool;
            pool = new ForkJoinPool(threads, p -> {
                java.util.concurrent.ForkJoinWorkerThread thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
                thread.setDaemon(true);
                thread.setName("sparkzoo-activation-pass-" + thread.getPoolIndex());
                return thread;
            }, null, false);
            if (previous != null) {
                previous.shutdown();
            }
        }
        return pool;
    }
}
