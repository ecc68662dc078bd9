package org.sparkzoo.dataprep;

import org.apache.spark.util.LongAccumulator;

import java.io.PrintStream;
import java.util.Locale;

/** Prints "images done of total, images/s, ETA" every few seconds from a daemon thread polling an accumulator. */
final class Progress implements AutoCloseable {
    private final Thread thread;
    private final long startNanos = System.nanoTime();
    private final LongAccumulator done;
    private final long total;
    private final PrintStream out;
    private volatile boolean stopped;

    Progress(LongAccumulator done, long total, int seconds, PrintStream out) {
        this.done = done;
        this.total = total;
        this.out = out;
        this.thread = new Thread(() -> {
            while (!stopped) {
                try {
                    Thread.sleep(seconds * 1000L);
                } catch (InterruptedException e) {
                    return;
                }
                if (!stopped) out.println(line());
            }
        }, "prep-progress");
        thread.setDaemon(true);
        if (seconds > 0) thread.start();
    }

    String line() {
        long n = done.value();
        double secs = (System.nanoTime() - startNanos) / 1e9;
        double rate = secs > 0 ? n / secs : 0;
        String eta = rate > 0 ? formatSeconds((total - n) / rate) : "?";
        return String.format(Locale.ROOT, "prep: %d/%d images (%.1f%%), %.1f images/s, ETA %s",
                n, total, total == 0 ? 100.0 : 100.0 * n / total, rate, eta);
    }

    static String formatSeconds(double s) {
        long t = Math.round(s);
        return t >= 3600 ? String.format("%dh%02dm", t / 3600, (t % 3600) / 60)
                : t >= 60 ? String.format("%dm%02ds", t / 60, t % 60) : t + "s";
    }

    @Override
    public void close() {
        stopped = true;
        thread.interrupt();
        out.println(line());
    }
}
