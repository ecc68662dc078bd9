package org.sparkzoo.jobs.data;

import org.junit.jupiter.api.Test;
import org.sparkzoo.dataprep.Manifest;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShardSliceTest {

    private static Manifest.Split split(long... rows) {
        Manifest.Split s = new Manifest.Split();
        for (int i = 0; i < rows.length; i++) {
            s.shards.add(new Manifest.ShardInfo("train/part-" + i + ".parquet", rows[i], 0, ""));
            s.count += rows[i];
        }
        return s;
    }

    private static void assertEveryRowOnce(List<ShardSlice> slices, int maxRows, long total) {
        Set<String> rows = new HashSet<>();
        for (ShardSlice s : slices) {
            assertTrue(s.count <= maxRows, "a slice larger than a minibatch would be partly dropped by dl4j-spark: " + s);
            for (long r : s.rows()) {
                assertTrue(rows.add(s.shard + "@" + r), "row read twice: " + s.shard + "@" + r);
            }
        }
        assertEquals(total, rows.size());
    }

    @Test
    void slicesCoverEveryRowExactlyOnce() {
        Manifest.Split split = split(1024, 1024, 700);
        List<ShardSlice> slices = ShardSlice.cut("file:/data", split, 320);
        assertEveryRowOnce(slices, 320, 1024 + 1024 + 700);
        assertEquals(4 + 4 + 3, slices.size());
        for (int epoch = 0; epoch < 3; epoch++) {
            List<ShardSlice> e = ShardSlice.epoch("file:/data", split, 320, 7, epoch);
            assertEveryRowOnce(e, 320, 1024 + 1024 + 700);
            assertEquals(slices.size(), e.size(), "every epoch has as many slices, so rounds per epoch do not change");
        }
    }

    @Test
    void pathRoundTripsThroughAString() {
        ShardSlice run = new ShardSlice("hdfs://nn:8020/data/train/part-00003.parquet", 640, 320);
        assertEquals("hdfs://nn:8020/data/train/part-00003.parquet#640+320", run.path());
        ShardSlice back = ShardSlice.parse(run.path());
        assertEquals(run.shard, back.shard);
        assertArrayEquals(run.rows(), back.rows());
        ShardSlice chosen = ShardSlice.epoch("hdfs://nn:8020/d", split(100), 8, 3, 1).get(0);
        assertTrue(chosen.path().contains("#rows="), chosen.path());
        assertArrayEquals(chosen.rows(), ShardSlice.parse(chosen.path()).rows());
    }

    @Test
    void minibatchesAreDealtAfreshEveryEpochAndIdenticallyOnRerun() {
        Manifest.Split split = split(1024, 1024, 1024, 1024);
        assertEquals(ShardSlice.epoch("file:/d", split, 32, 7, 0).toString(), ShardSlice.epoch("file:/d", split, 32, 7, 0).toString());
        Set<String> epoch0 = new HashSet<>();
        for (ShardSlice s : ShardSlice.epoch("file:/d", split, 32, 7, 0)) {
            epoch0.add(s.shard + Arrays.toString(s.rows()));
        }
        long again = ShardSlice.epoch("file:/d", split, 32, 7, 1).stream()
                .filter(s -> epoch0.contains(s.shard + Arrays.toString(s.rows()))).count();
        assertEquals(0, again, "a minibatch of 32 images of 1024 came back in the next epoch with the same images");
        assertNotEquals(ShardSlice.epoch("file:/d", split, 32, 7, 1).toString(), ShardSlice.epoch("file:/d", split, 32, 8, 1).toString());
    }
}
