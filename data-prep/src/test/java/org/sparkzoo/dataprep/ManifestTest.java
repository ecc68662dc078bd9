package org.sparkzoo.dataprep;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class ManifestTest {
    @TempDir
    Path tmp;

    static Manifest sample() {
        Manifest m = new Manifest();
        m.classes.add(new Manifest.ClassInfo(0, "n01440764", "tench, Tinca tinca"));
        m.classes.add(new Manifest.ClassInfo(1, "n01443537", "goldfish"));
        Manifest.Split s = new Manifest.Split();
        s.count = 3;
        s.shardSize = 2;
        s.shards.add(new Manifest.ShardInfo("train/train-00000-of-00002.parquet", 2, 100, "aa"));
        s.shards.add(new Manifest.ShardInfo("train/train-00001-of-00002.parquet", 1, 50, "bb"));
        m.splits.put("train", s);
        m.quarantine.add(new Manifest.QuarantineEntry("train/n01440764/x.JPEG", "train", "empty file (0 bytes)"));
        return m;
    }

    @Test
    void roundTripsThroughHadoopAndKeepsItsId() throws Exception {
        Manifest m = sample();
        m.write(tmp.toString(), new Configuration());
        Manifest back = Manifest.read(tmp.toString(), new Configuration());
        assertEquals(m.id(), back.id());
        assertEquals(back.id(), back.id);
        assertEquals("goldfish", back.classes().get(1).name);
        assertEquals(2, back.numClasses());
        assertEquals(2, back.split("train").shards.size());
        assertEquals("empty file (0 bytes)", back.quarantine.get(0).reason);
        try (var files = Files.list(tmp)) {
            assertEquals(1, files.filter(p -> !p.getFileName().toString().endsWith(".crc")).count(), "no temporary file is left behind");
        }
    }

    @Test
    void idChangesWithShardsAndClasses() {
        Manifest a = sample(), b = sample(), c = sample();
        b.split("train").shards.get(1).sha256 = "cc";
        c.classes.get(1).wnid = "n01484850";
        assertNotEquals(a.id(), b.id());
        assertNotEquals(a.id(), c.id());
        assertEquals(a.id(), sample().id());
    }

    @Test
    void clearErrorsForMissingMalformedAndUnknownSplit() throws Exception {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> Manifest.read(tmp.toString(), new Configuration()));
        assertTrue(missing.getMessage().contains(tmp.resolve("manifest.json").toString()), missing.getMessage());
        Files.writeString(tmp.resolve("manifest.json"), "{\"classes\": [", StandardCharsets.UTF_8);
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> Manifest.read(tmp.toString(), new Configuration()));
        assertTrue(bad.getMessage().startsWith("malformed manifest") && bad.getMessage().contains("manifest.json"), bad.getMessage());
        IllegalArgumentException split = assertThrows(IllegalArgumentException.class, () -> sample().split("test"));
        assertTrue(split.getMessage().contains("[train]"), split.getMessage());
    }
}
