package org.sparkzoo.dataprep;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparkzoo.dataprep.idx.IdxToImageNet;
import org.sparkzoo.dataprep.image.Image;
import org.sparkzoo.dataprep.image.ImageCodec;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Same input + seed -> byte-identical shards; existing output needs overwrite; augmented copies. */
class DeterminismTest {
    @TempDir
    static Path tmp;
    static Path tree;
    static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    @BeforeAll
    static void convert() throws Exception {
        tree = tmp.resolve("fashion");
        IdxToImageNet.convert(List.of(Fixtures.fashionMnist()), tree, null, 300, 50, 95);
    }

    static PrepOptions options(String out, long seed) {
        PrepOptions o = new PrepOptions();
        o.input = tree.toString();
        o.output = tmp.resolve(out).toString();
        o.seed = seed;
        o.shardSize = 100;
        o.augmentCopies = 1;
        o.progressSeconds = 0;
        return o;
    }

    @Test
    void sameSeedGivesByteIdenticalShardsAndOtherSeedsDiffer() throws Exception {
        Manifest a = PrepPipeline.run(TestSpark.get(), options("a", 42), QUIET).manifest;
        Manifest b = PrepPipeline.run(TestSpark.get(), options("b", 42), QUIET).manifest;
        Manifest c = PrepPipeline.run(TestSpark.get(), options("c", 43), QUIET).manifest;
        assertEquals(a.id(), b.id());
        List<Manifest.ShardInfo> sa = a.split("train").shards, sb = b.split("train").shards;
        assertEquals(6, sa.size(), "300 images + 300 copies in shards of 100");
        for (int i = 0; i < sa.size(); i++) {
            assertEquals(sa.get(i).sha256, sb.get(i).sha256);
            assertArrayEquals(Files.readAllBytes(tmp.resolve("a").resolve(sa.get(i).file)), Files.readAllBytes(tmp.resolve("b").resolve(sb.get(i).file)));
        }
        assertNotEquals(a.id(), c.id());
        assertNotEquals(sa.get(0).sha256, c.split("train").shards.get(0).sha256);
        // checksums in the manifest are those of the files
        assertEquals(sha256(tmp.resolve("a").resolve(sa.get(3).file)), sa.get(3).sha256);
        assertEquals(Files.size(tmp.resolve("a").resolve(sa.get(3).file)), sa.get(3).bytes);
    }

    @Test
    void augmentedCopiesAreSeededCropsOfTheirOriginal() throws Exception {
        Manifest m = PrepPipeline.run(TestSpark.get(), options("aug", 5), QUIET).manifest;
        Manifest.Split train = m.split("train");
        assertEquals(600, train.count);
        assertEquals(300, train.augmentedCopies);
        assertEquals(50, m.split("val").count, "val gets no copies");
        assertEquals(0, m.split("val").augmentedCopies);
        List<ImageRecord> rows = ShardReader.readAll(tmp.resolve("aug").resolve(train.shards.get(0).file).toString(), new Configuration());
        // originals and copies share a path; each path appears twice overall, and both decode to 28x28
        long distinct = rows.stream().map(r -> r.path).distinct().count();
        assertTrue(distinct > 80, "copies are shuffled apart from their originals, " + distinct + " distinct paths in 100 rows");
        for (ImageRecord r : rows) {
            Image img = ImageCodec.decode(r.image, 1, 0);
            assertEquals(28, img.width);
        }
    }

    @Test
    void existingOutputNeedsOverwrite() {
        PrepOptions o = options("ow", 1);
        o.augmentCopies = 0;
        PrepPipeline.run(TestSpark.get(), o, QUIET);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PrepPipeline.run(TestSpark.get(), o, QUIET));
        assertTrue(e.getMessage().contains("--overwrite"), e.getMessage());
        o.overwrite = true;
        o.shardSize = 1000;
        Manifest m = PrepPipeline.run(TestSpark.get(), o, QUIET).manifest;
        assertEquals(1, m.split("train").shards.size());
        assertEquals(1, m.split("train").shards.size());
        assertFalse(Files.exists(tmp.resolve("ow/train/train-00001-of-00003.parquet")), "old shards are gone");
        assertEquals(m.id(), Manifest.read(o.output, new Configuration()).id());
    }

    @Test
    void overwriteNeverDeletesAFolderPrepDidNotWrite() throws Exception {
        Path foreign = tmp.resolve("home");
        Fixtures.write(foreign.resolve("thesis.tex"), new byte[]{1});
        PrepOptions o = options("home", 1);
        o.overwrite = true;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PrepPipeline.run(TestSpark.get(), o, QUIET));
        assertTrue(e.getMessage().contains("does not look like"), e.getMessage());
        assertTrue(Files.exists(foreign.resolve("thesis.tex")));
    }

    static String sha256(Path p) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }
}
