package org.sparkzoo.jobs;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeMemoryTest {
    private static final long GB = 1L << 30;

    @Test
    void theOffHeapLimitFollowsTheMachinesAvailableMemory() {
        // a 24 GB machine with 22.6 GB available and a 2 GB heap: room for densenet121's 12.81 GB (two workers, batch 32)
        long[] big = NativeMemory.limits((long) (22.6 * GB), 2 * GB);
        assertEquals((long) (22.6 * GB * 0.8), big[1]);
        assertEquals(big[1] - 2 * GB - GB, big[0]);
        assertTrue(big[0] > 12.81e9, big[0] + " bytes");
        // heap + off-heap + the JVM's own never exceed the physical limit, however small the machine
        long[] small = NativeMemory.limits(2 * GB, 2 * GB);
        assertEquals(GB, small[0]);
        assertTrue(small[1] >= small[0] + 2 * GB + GB);
    }

    @Test
    void procMeminfoAndCgroupValuesAreRead() {
        String meminfo = "MemTotal:       24576000 kB\nMemFree:         1000000 kB\nMemAvailable:   22000000 kB\n";
        assertEquals(22000000L * 1024, NativeMemory.memAvailable(meminfo));
        assertEquals(-1, NativeMemory.memAvailable("MemTotal: 1 kB\n"));
        assertEquals(-1, NativeMemory.parseLimit("max\n"));
        assertEquals(8589934592L, NativeMemory.parseLimit("8589934592\n"));
        assertTrue(NativeMemory.availableBytes() > 0, "this machine's memory is readable");
    }
}
