package org.sparkzoo.dataprep;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparkzoo.dataprep.idx.IdxFile;
import org.sparkzoo.dataprep.image.Image;
import org.sparkzoo.dataprep.image.ImageCodec;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** IDX files read directly (layout idx) and ILSVRC2012_img_train.tar read in place. */
class IdxAndTarTest {
    @TempDir
    Path tmp;
    static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    @Test
    void idxFilesAreReadDirectlyAsGreyWithTheirLabels() throws Exception {
        PrepOptions o = new PrepOptions();
        o.input = Fixtures.fashionMnist().toString();
        o.output = tmp.resolve("out").toString();
        o.limitPerClass = 15;
        o.storage = "raw";
        o.progressSeconds = 0;
        PrepPipeline.run(TestSpark.get(), o, QUIET);
        Configuration conf = new Configuration();
        Manifest m = Manifest.read(o.output, conf);
        assertEquals("idx", m.options.get("resolvedLayout"));
        assertEquals(List.of(150L, 150L), List.of(m.split("train").count, m.split("val").count));
        assertEquals("Ankle boot", m.classes().get(9).name);
        assertEquals(1, m.channels);
        IdxFile images, labels;
        try (InputStream in = Files.newInputStream(Fixtures.fashionMnist().resolve("t10k-images-idx3-ubyte.gz"))) {
            images = IdxFile.read(in, "t10k-images");
        }
        try (InputStream in = Files.newInputStream(Fixtures.fashionMnist().resolve("t10k-labels-idx1-ubyte.gz"))) {
            labels = IdxFile.read(in, "t10k-labels");
        }
        for (ImageRecord r : ShardReader.readAll(o.output + "/" + m.split("val").shards.get(0).file, conf)) {
            int i = Integer.parseInt(r.path.substring(r.path.indexOf('#') + 1));
            assertEquals(labels.label(i), r.label);
            assertEquals("raw", r.encoding);
            assertArrayEquals(images.image(i), r.image, "raw storage is lossless");
        }
    }

    /** Writes a tar of per-class tars, as ILSVRC2012_img_train.tar is. */
    static void writeTrainTar(Path file, Map<String, Map<String, byte[]>> classes) throws Exception {
        try (TarArchiveOutputStream outer = new TarArchiveOutputStream(Files.newOutputStream(file))) {
            outer.setLongFileMode(TarArchiveOutputStream.LONGFILE_GNU);
            for (Map.Entry<String, Map<String, byte[]>> c : classes.entrySet()) {
                ByteArrayOutputStream inner = new ByteArrayOutputStream();
                try (TarArchiveOutputStream t = new TarArchiveOutputStream(inner)) {
                    t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                    for (Map.Entry<String, byte[]> f : c.getValue().entrySet()) {
                        TarArchiveEntry e = new TarArchiveEntry(f.getKey());
                        e.setSize(f.getValue().length);
                        t.putArchiveEntry(e);
                        t.write(f.getValue());
                        t.closeArchiveEntry();
                    }
                }
                TarArchiveEntry e = new TarArchiveEntry(c.getKey() + ".tar");
                e.setSize(inner.size());
                outer.putArchiveEntry(e);
                outer.write(inner.toByteArray());
                outer.closeArchiveEntry();
            }
        }
    }

    @Test
    void trainTarOfPerClassTarsIsReadInPlace() throws Exception {
        Path root = tmp.resolve("in");
        Files.createDirectories(root);
        Map<String, Map<String, byte[]>> classes = new LinkedHashMap<>();
        String longName = ImageNetTree.CAT + "_" + "x".repeat(120) + ".JPEG";      // needs a pax / GNU long name
        classes.put(ImageNetTree.THINGS, Map.of(ImageNetTree.THINGS + "_1.JPEG", Fixtures.photo("rocket.jpg"),
                ImageNetTree.THINGS + "_2.JPEG", Fixtures.photo("png_named_as.JPEG"), "._junk.JPEG", new byte[]{0, 5}));
        classes.put(ImageNetTree.CAT, Map.of(ImageNetTree.CAT + "_1.JPEG", Fixtures.photo("chelsea.jpg"), longName, Fixtures.photo("cmyk.jpg"),
                ImageNetTree.CAT + "_bad.JPEG", new byte[0]));
        writeTrainTar(root.resolve("ILSVRC2012_img_train.tar"), classes);

        PrepOptions o = new PrepOptions();
        o.input = root.toString();
        o.output = tmp.resolve("out").toString();
        o.progressSeconds = 0;
        PrepPipeline.run(TestSpark.get(), o, QUIET);
        Configuration conf = new Configuration();
        Manifest m = Manifest.read(o.output, conf);
        assertEquals(List.of(ImageNetTree.CAT, ImageNetTree.THINGS), m.classes().stream().map(c -> c.wnid).toList());
        assertEquals(4, m.split("train").count);
        assertEquals(1, m.quarantine.size());
        assertTrue(m.quarantine.get(0).path.endsWith(ImageNetTree.CAT + "_bad.JPEG") && m.quarantine.get(0).reason.contains("empty"));
        assertTrue(m.ignored.stream().anyMatch(q -> q.path.endsWith("._junk.JPEG")));
        Map<String, ImageRecord> rows = new LinkedHashMap<>();
        for (ImageRecord r : ShardReader.readAll(o.output + "/" + m.split("train").shards.get(0).file, conf)) rows.put(r.path, r);
        ImageRecord cmyk = rows.get("ILSVRC2012_img_train.tar/" + ImageNetTree.CAT + ".tar/" + longName);
        assertNotNull(cmyk, rows.keySet().toString());
        assertEquals(0, cmyk.label);
        Image img = ImageCodec.decode(cmyk.image, 3, 0);
        assertEquals(300, img.width);
        assertEquals(1, rows.get("ILSVRC2012_img_train.tar/" + ImageNetTree.THINGS + ".tar/" + ImageNetTree.THINGS + "_1.JPEG").label);
    }
}
