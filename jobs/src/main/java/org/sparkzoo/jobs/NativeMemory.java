package org.sparkzoo.jobs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sizes ND4J's off-heap limits from the memory of the machine the driver runs on, when the user set none. In local
 * mode every worker lives in the driver's JVM, so a fixed limit either wastes a big machine or is too much for a
 * small one (densenet121 with two workers needs about 13 GB). javacpp reads the two properties once, when its
 * {@code Pointer} class loads: call {@link #sizeFromMachine} first in a job's main, before anything touches ND4J.
 */
public final class NativeMemory {
    public static final String MAX_BYTES = "org.bytedeco.javacpp.maxbytes";
    public static final String MAX_PHYSICAL_BYTES = "org.bytedeco.javacpp.maxphysicalbytes";
    /** Share of the available memory the whole process may use (javacpp's physical limit counts heap and all). */
    static final double PHYSICAL_SHARE = 0.8;
    /** Kept for the JVM's own native memory (metaspace, threads, Netty and Parquet buffers) beside heap and ND4J. */
    public static final long JVM_NATIVE = 1L << 30;
    private static final long MIN_OFF_HEAP = 1L << 30;

    private NativeMemory() {
    }

    /**
     * Sets {@value #MAX_BYTES} and {@value #MAX_PHYSICAL_BYTES} from the available memory (the smaller of
     * /proc/meminfo's MemAvailable and what a cgroup limit leaves) and this JVM's heap, unless either is set already (the
     * user's choice wins) or the driver runs in a cluster container, whose limit the host's memory does not show.
     * Prints what it chose.
     */
    public static void sizeFromMachine() {
        if (System.getProperty(MAX_BYTES) != null || System.getProperty(MAX_PHYSICAL_BYTES) != null
                || "cluster".equals(System.getProperty("spark.submit.deployMode"))) {
            return;
        }
        long available = availableBytes();
        if (available <= 0) {
            return;
        }
        long[] limits = limits(available, Runtime.getRuntime().maxMemory());
        System.setProperty(MAX_BYTES, Long.toString(limits[0]));
        System.setProperty(MAX_PHYSICAL_BYTES, Long.toString(limits[1]));
        System.out.printf(Locale.ROOT, "native memory: ND4J may use %.1f GB off-heap (%.1f GB in all), from %.1f GB available on this "
                        + "machine; -D%s in spark.driver.extraJavaOptions sets it%n",
                limits[0] / 1e9, limits[1] / 1e9, available / 1e9, MAX_BYTES);
    }

    /** {maxbytes, maxphysicalbytes} for a machine with {@code available} bytes free and a JVM of {@code heap}. */
    static long[] limits(long available, long heap) {
        long physical = (long) (available * PHYSICAL_SHARE);
        long offHeap = Math.max(MIN_OFF_HEAP, physical - heap - JVM_NATIVE);
        return new long[]{offHeap, Math.max(physical, offHeap + heap + JVM_NATIVE)};
    }

    static long availableBytes() {
        long meminfo = memAvailable(read(Paths.get("/proc/meminfo")));
        long limit = parseLimit(read(Paths.get("/sys/fs/cgroup/memory.max")));
        long cgroup = limit > 0 ? limit - Math.max(0, parseLimit(read(Paths.get("/sys/fs/cgroup/memory.current")))) : -1;
        return cgroup > 0 && (meminfo <= 0 || cgroup < meminfo) ? cgroup : meminfo;
    }

    /** MemAvailable of a /proc/meminfo text, in bytes; -1 if absent. */
    static long memAvailable(String meminfo) {
        Matcher m = Pattern.compile("(?m)^MemAvailable:\\s+(\\d+) kB").matcher(meminfo);
        return m.find() ? Long.parseLong(m.group(1)) << 10 : -1;
    }

    /** A cgroup v2 memory.max or memory.current value in bytes; -1 for "max" or none. */
    static long parseLimit(String text) {
        String t = text.trim();
        return t.matches("\\d+") ? Long.parseLong(t) : -1;
    }

    private static String read(Path p) {
        try {
            return Files.isReadable(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return "";
        }
    }
}
