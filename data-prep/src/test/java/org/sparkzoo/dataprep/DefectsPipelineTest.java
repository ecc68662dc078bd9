package org.sparkzoo.dataprep;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparkzoo.dataprep.image.Image;
import org.sparkzoo.dataprep.image.ImageCodec;
import org.sparkzoo.dataprep.image.ImageInfo;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/** prep-job on a tree with the real archive's defects: nothing fails, nothing is lost, every file is accounted for. */
class DefectsPipelineTest {
    @TempDir
    static Path tmp;
    static Manifest m;
    static String printed;
    static Map<String, ImageRecord> rows = new HashMap<>();

    @BeforeAll
    static void prepare() {
        Path root = tmp.resolve("imagenet");
        ImageNetTree.trainTree(root);
        ImageNetTree.flatVal(root);
        ImageNetTree.kaggleLabels(root);
        PrepOptions o = new PrepOptions();
        o.input = root.toString();
        o.output = tmp.resolve("out").toString();
        o.shardSize = 4;
        o.progressSeconds = 1;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrepPipeline.run(TestSpark.get(), o, new PrintStream(buf, true, StandardCharsets.UTF_8));
        printed = buf.toString(StandardCharsets.UTF_8);
        System.out.print(printed);
        Configuration conf = new Configuration();
        m = Manifest.read(o.output, conf);
        for (String split : m.splits.keySet()) {
            for (Manifest.ShardInfo s : m.split(split).shards) {
                for (ImageRecord r : ShardReader.readAll(o.output + "/" + s.file, conf)) rows.put(r.path, r);
            }
        }
    }

    @Test
    void classIndexComesFromFoldersWithImages() {
        assertEquals(List.of(ImageNetTree.CAT, ImageNetTree.THINGS), m.classes().stream().map(c -> c.wnid).toList());
        assertTrue(m.ignored.stream().anyMatch(q -> q.path.equals("train/" + ImageNetTree.EMPTY) && q.reason.contains("without images")), m.ignored.toString());
    }

    @Test
    void unusableFilesAreQuarantinedWithReasons() {
        Map<String, String> q = m.quarantine.stream().collect(Collectors.toMap(e -> e.path, e -> e.reason));
        String things = "train/" + ImageNetTree.THINGS + "/";
        assertTrue(q.get(things + "empty.JPEG").contains("empty"), q.toString());
        assertTrue(q.get(things + "truncated.JPEG").contains("JPEG"), q.toString());
        assertTrue(q.get(things + "cut.JPEG").contains("truncated"), q.toString());
        assertTrue(q.get(things + "readme.JPEG").contains("not an image"), q.toString());
        assertTrue(q.get("val/ILSVRC2012_val_00000004.JPEG").contains("no label"), q.toString());
        assertEquals(ImageNetTree.THINGS_BAD + 1, q.size(), q.toString());
    }

    @Test
    void strayAndHiddenFilesAreIgnoredNotCounted() {
        List<String> ignored = m.ignored.stream().map(e -> e.path).toList();
        String cat = "train/" + ImageNetTree.CAT + "/";
        assertTrue(ignored.containsAll(List.of(cat + "._chelsea.JPEG", cat + ".DS_Store", cat + "notes.txt", "train/README",
                "val/._ILSVRC2012_val_00000001.JPEG")), ignored.toString());
        assertFalse(rows.keySet().stream().anyMatch(p -> p.contains("._")));
    }

    @Test
    void everyFoundFileIsWrittenOrQuarantined() {
        Manifest.Split train = m.split("train");
        assertEquals(ImageNetTree.CAT_IMAGES, train.foundPerClass.get(ImageNetTree.CAT));
        assertEquals(ImageNetTree.THINGS_IMAGES + ImageNetTree.THINGS_BAD, train.foundPerClass.get(ImageNetTree.THINGS));
        assertEquals(ImageNetTree.CAT_IMAGES, train.countsPerClass.get(ImageNetTree.CAT));
        assertEquals(ImageNetTree.THINGS_IMAGES, train.countsPerClass.get(ImageNetTree.THINGS));
        assertEquals(ImageNetTree.THINGS_BAD, train.quarantinedPerClass.get(ImageNetTree.THINGS));
        assertEquals(ImageNetTree.CAT_IMAGES + ImageNetTree.THINGS_IMAGES, train.count);
        assertEquals(List.of(4L, 4L, 3L), train.shards.stream().map(s -> s.rows).toList());
        assertTrue(printed.contains("reconciliation"), printed);
        assertTrue(printed.matches("(?s).*train\\s+" + ImageNetTree.THINGS + "\\s+" + ImageNetTree.THINGS + "\\s+10\\s+6\\s+4\\s+0.*"), printed);
        assertTrue(printed.matches("(?s).*prep: \\d+/\\d+ images \\(.*images/s, ETA.*"), "progress line: " + printed);
    }

    @Test
    void everyWrittenImageIsRgbAtTheResizedSize() throws Exception {
        assertEquals(3, m.channels);
        for (ImageRecord r : rows.values()) {
            Image img = ImageCodec.decode(r.image, 3, 0);
            assertEquals(r.width, img.width, r.path);
            assertEquals(r.height, img.height, r.path);
            assertEquals(3, r.channels);
            byte[] source = java.nio.file.Files.readAllBytes(tmp.resolve("imagenet").resolve(r.path));
            ImageInfo info = ImageInfo.probe(source, source.length);
            int sourceShort = Math.min(info.width, info.height);
            assertEquals(Math.min(256, sourceShort), Math.min(img.width, img.height), r.path + " (never enlarged)");
        }
        ImageRecord huge = rows.get("train/" + ImageNetTree.THINGS + "/huge.JPEG");
        assertEquals(384, huge.width);     // 12000x8000 -> 256 short side
        assertNotNull(rows.get("train/" + ImageNetTree.CAT + "/" + ImageNetTree.ODD_NAME), rows.keySet().toString());
        assertNotNull(rows.get("train/" + ImageNetTree.THINGS + "/png_named_as.JPEG"));
        assertNotNull(rows.get("train/" + ImageNetTree.THINGS + "/astronaut.PNG"));
    }

    @Test
    void cmykStaysTheSamePictureThroughThePipeline() throws Exception {
        Image cmyk = ImageCodec.decode(rows.get("train/" + ImageNetTree.CAT + "/cmyk.JPEG").image, 3, 0);
        Image rgb = ImageCodec.decode(rows.get("train/" + ImageNetTree.CAT + "/chelsea.JPEG").image, 3, 0);
        // both are Chelsea: cmyk.jpg a 300x200 version, chelsea.jpg at 384x256
        double[] a = meanRgb(cmyk), b = meanRgb(rgb);
        for (int c = 0; c < 3; c++) assertEquals(b[c], a[c], 8, "channel " + c);
    }

    @Test
    void kaggleValLabelsAreApplied() {
        assertEquals(0, rows.get("val/ILSVRC2012_val_00000001.JPEG").label);
        assertEquals(1, rows.get("val/ILSVRC2012_val_00000002.JPEG").label);
        assertEquals(ImageNetTree.CAT, rows.get("val/ILSVRC2012_val_00000003.JPEG").wnid);
        assertEquals(3, m.split("val").count);
    }

    static double[] meanRgb(Image img) {
        double[] s = new double[3];
        for (int i = 0; i < img.data.length; i++) s[i % 3] += img.data[i] & 0xff;
        for (int c = 0; c < 3; c++) s[c] /= img.data.length / 3.0;
        return s;
    }
}
