package org.sparkzoo.jobs.train;

import org.junit.jupiter.api.Test;
import org.sparkzoo.dataprep.Manifest;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

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

    @Test
    void slicesCoverEveryRowExactlyOnceAndNeverExceedOneRound() {
        int round = 64 * 5;
        List<ShardSlice> slices = ShardSlice.cut("file:/data", split(1024, 1024, 700), round);
        Set<String> rows = new HashSet<>();
        long total = 0;
        for (ShardSlice s : slices) {
            assertTrue(s.count <= round, "a slice larger than a round would be partly dropped by dl4j-spark: " + s);
            for (long r = s.offset; r < s.offset + s.count; r++) {
                assertTrue(rows.add(s.shard + "@" + r), "row read twice: " + s.shard + "@" + r);
            }
            total += s.count;
        }
        assertEquals(1024 + 1024 + 700, total);
        assertEquals(4 + 4 + 3, slices.size());
    }

    @Test
    void pathRoundTripsThroughAString() {
        ShardSlice s = new ShardSlice("hdfs://nn:8020/data/train/part-00003.parquet", 640, 320);
        ShardSlice back = ShardSlice.parse(s.path());
        assertEquals(s.shard, back.shard);
        assertEquals(640, back.offset);
        assertEquals(320, back.count);
    }

    @Test
    void epochOrderIsSeededAndChangesEveryEpoch() {
        List<ShardSlice> slices = ShardSlice.cut("file:/d", split(1024, 1024, 1024, 1024), 128);
        assertEquals(ShardSlice.epochOrder(slices, 7, 0).toString(), ShardSlice.epochOrder(slices, 7, 0).toString());
        assertNotEquals(ShardSlice.epochOrder(slices, 7, 0).toString(), ShardSlice.epochOrder(slices, 7, 1).toString());
        assertEquals(new HashSet<>(slices.stream().map(ShardSlice::path).toList()),
                new HashSet<>(ShardSlice.epochOrder(slices, 7, 3).stream().map(ShardSlice::path).toList()));
    }
}
