package org.sparkzoo.jobs.train;

import org.apache.spark.TaskContext;
import org.apache.spark.util.LongAccumulator;
import org.deeplearning4j.core.loader.MultiDataSetLoader;
import org.nd4j.common.loader.Source;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A round's training data, loaded on the executor while the driver averages the previous round: the loader of a
 * round ({@link RoundTrainingMaster} wraps train-job's) times its loads, and when its task ends it starts decoding
 * the next round's slices of the same partition in a background thread, so that the next round, pinned to this
 * executor, finds its minibatches ready. A slice loads to the same minibatch in the background as in the task (its
 * augmentation is seeded by the slice and the epoch), so prefetching changes no result; a slice whose background
 * load failed, or that was not prefetched here, is loaded in the task, where a bad shard fails the task with the
 * loader's message.
 */
final class RoundData implements MultiDataSetLoader {
    private static final long serialVersionUID = 1L;

    /** One background thread per executor JVM, and what it loaded (or is loading) for the next round. */
    private static final ExecutorService BACKGROUND = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "sparkzoo next-round data");
        t.setDaemon(true);
        return t;
    });
    private static final Map<String, Pending> READY = new ConcurrentHashMap<>();

    private static final class Pending {
        final String run;
        final long round;
        final Future<MultiDataSet> data;

        Pending(String run, long round, Future<MultiDataSet> data) {
            this.run = run;
            this.round = round;
            this.data = data;
        }
    }

    /** The training run (its master); rounds count from 0 in each. */
    private final String run;
    private final MultiDataSetLoader loader;
    /** Identifies the loader's settings (the same serialized loader decodes a slice to the same minibatch). */
    private final String loaderId;
    private final long round;
    /** The next round's slices by partition; empty where there is none or it uses another loader (a new epoch). */
    private final List<List<String>> next;
    private final LongAccumulator loadNanos;
    /** Slices that were ready when the task asked for them. */
    private final LongAccumulator prefetched;
    /** Whether this task's completion listener is registered (Spark deserializes a loader per task). */
    private transient boolean listening;

    RoundData(String run, MultiDataSetLoader loader, String loaderId, long round, List<List<String>> next,
              LongAccumulator loadNanos, LongAccumulator prefetched) {
        this.run = run;
        this.loader = loader;
        this.loaderId = loaderId;
        this.round = round;
        this.next = next;
        this.loadNanos = loadNanos;
        this.prefetched = prefetched;
    }

    @Override
    public MultiDataSet load(Source source) throws IOException {
        long t0 = System.nanoTime();
        prefetchNextWhenTaskEnds();
        Pending ready = READY.remove(key(source.getPath()));
        MultiDataSet data = null;
        if (ready != null && ready.run.equals(run) && ready.round == round) {
            try {
                data = ready.data.get();
            } catch (ExecutionException e) {
                data = null; // loaded again below, where its error fails the task with the loader's message
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the task is being killed
                throw new InterruptedIOException("interrupted while waiting for " + source.getPath());
            }
        }
        if (data == null) {
            data = loader.load(source);
        } else {
            prefetched.add(1);
        }
        loadNanos.add(System.nanoTime() - t0);
        return data;
    }

    private String key(String path) {
        return loaderId + "|" + path;
    }

    private void prefetchNextWhenTaskEnds() {
        TaskContext task = TaskContext.get();
        if (listening || task == null) {
            return;
        }
        listening = true;
        int partition = task.partitionId();
        task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) context -> {
            // not taken: that partition ran on another executor, or the run is over (this round's may still be
            // taken by another task of this executor)
            READY.values().removeIf(p -> !p.run.equals(run) || p.round < round);
            if (context.isInterrupted() || context.isFailed() || partition >= next.size()) {
                return;
            }
            for (String path : next.get(partition)) {
                READY.put(key(path), new Pending(run, round + 1, BACKGROUND.submit(() -> loader.load(new PathSource(path)))));
            }
        });
    }

    /** Slices given by path alone (train-job's loader reads the shard through its own Hadoop configuration). */
    private static final class PathSource implements Source {
        private final String path;

        PathSource(String path) {
            this.path = path;
        }

        @Override
        public InputStream getInputStream() {
            throw new UnsupportedOperationException("a prefetched slice is read by its loader from its path: " + path);
        }

        @Override
        public String getPath() {
            return path;
        }
    }
}
