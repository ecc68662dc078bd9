package org.sparkzoo.dataprep.bench;

import org.apache.hadoop.conf.Configuration;
import org.sparkzoo.dataprep.PrepOptions;
import org.sparkzoo.dataprep.source.SourcePlan;
import org.sparkzoo.dataprep.source.Sources;
import org.sparkzoo.dataprep.source.WorkItem;

import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * prep-job's planning on the driver, timed and weighed: {@link Sources#plan} lists every class folder (or indexes
 * the training tar) and builds one {@link WorkItem} per file, which the driver keeps and parallelize() ships.
 *
 * <p>Usage: {@code PlanBench <input-root>}; prints one line: files, seconds, heap the plan keeps (used heap after
 * a full GC, with and without the plan), the highest used heap a sampler saw while planning, and the size of the
 * items in Java serialization (what Spark's task serializer writes for parallelize's slices).
 */
public final class PlanBench {
    private PlanBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: PlanBench <input-root>");
            System.exit(2);
        }
        PrepOptions o = new PrepOptions();
        o.input = args[0];
        Configuration conf = new Configuration();
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long before = liveHeap(memory);
        AtomicLong peak = new AtomicLong();
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        sampler.setDaemon(true);
        sampler.start();
        long t0 = System.nanoTime();
        SourcePlan plan = Sources.plan(o, conf);
        double seconds = (System.nanoTime() - t0) / 1e9;
        sampler.interrupt();
        sampler.join();
        List<WorkItem> all = new ArrayList<>();
        for (List<WorkItem> l : plan.items.values()) all.addAll(l);
        long kept = liveHeap(memory) - before;
        long serialized = serializedSize(all);
        int n = all.size();
        System.out.printf(Locale.ROOT, "files %d plan %.2f s (%.1f us/file) heap kept %.1f MB (%d B/file) peak used %.1f MB "
                        + "serialized %.1f MB (%d B/file) max heap %.0f MB%n",
                n, seconds, seconds * 1e6 / n, kept / 1e6, kept / n, peak.get() / 1e6, serialized / 1e6, serialized / n,
                memory.getHeapMemoryUsage().getMax() / 1e6);
        if (plan.items.isEmpty()) { // keeps the plan reachable until after the measurement
            System.exit(1);
        }
    }

    private static long liveHeap(MemoryMXBean memory) throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return memory.getHeapMemoryUsage().getUsed();
    }

    private static long serializedSize(List<WorkItem> items) throws IOException {
        long[] count = {0};
        OutputStream counter = new OutputStream() {
            @Override
            public void write(int b) {
                count[0]++;
            }

            @Override
            public void write(byte[] b, int off, int len) {
                count[0] += len;
            }
        };
        try (ObjectOutputStream out = new ObjectOutputStream(counter)) {
            out.writeObject(new ArrayList<>(items));
        }
        return count[0];
    }
}
