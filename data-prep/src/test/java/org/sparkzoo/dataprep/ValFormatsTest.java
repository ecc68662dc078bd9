package org.sparkzoo.dataprep;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The validation layouts of the wild: devkit ground truth (+ id mapping), class folders; the synset mapping file. */
class ValFormatsTest {
    @TempDir
    Path tmp;
    static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    /** A tree with a minimal train split (2 photos per class) for the val tests. */
    private Path smallTree() {
        Path root = tmp.resolve("in");
        for (String wnid : new String[]{ImageNetTree.CAT, ImageNetTree.THINGS}) {
            Fixtures.write(root.resolve("train/" + wnid + "/a.JPEG"), Fixtures.photo("small.jpg"));
            Fixtures.write(root.resolve("train/" + wnid + "/b.JPEG"), Fixtures.photo("grey.jpg"));
        }
        return root;
    }

    private Map<String, ImageRecord> run(Path root, PrepOptions o) {
        o.input = root.toString();
        o.output = tmp.resolve("out").toString();
        o.progressSeconds = 0;
        o.resizeShortSide = 64;
        PrepPipeline.run(TestSpark.get(), o, QUIET);
        Configuration conf = new Configuration();
        Manifest m = Manifest.read(o.output, conf);
        Map<String, ImageRecord> rows = new HashMap<>();
        for (Manifest.ShardInfo s : m.split("val").shards) {
            for (ImageRecord r : ShardReader.readAll(o.output + "/" + s.file, conf)) rows.put(r.path, r);
        }
        return rows;
    }

    @Test
    void devkitGroundTruthIsMappedThroughIlsvrcIdsNotAlphabeticalOrder() {
        Path root = smallTree();
        ImageNetTree.flatVal(root);
        ImageNetTree.synsetMapping(root);
        // devkit order differs from alphabetical: ID 1 = THINGS, ID 2 = EMPTY, ID 3 = CAT
        Fixtures.write(root.resolve("ILSVRC2012_devkit_t12/data/ILSVRC2012_mapping.txt"),
                ("1 " + ImageNetTree.THINGS + " things\n2 " + ImageNetTree.EMPTY + " nothing\n3 " + ImageNetTree.CAT + " cat\n").getBytes(StandardCharsets.UTF_8));
        Fixtures.write(root.resolve("ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt"),
                "3\n1\n1\n2\n".getBytes(StandardCharsets.UTF_8));
        Map<String, ImageRecord> val = run(root, new PrepOptions());
        assertEquals(ImageNetTree.CAT, val.get("val/ILSVRC2012_val_00000001.JPEG").wnid);
        assertEquals(0, val.get("val/ILSVRC2012_val_00000001.JPEG").label);       // alphabetical index of CAT
        assertEquals(1, val.get("val/ILSVRC2012_val_00000002.JPEG").label);       // ID 1 = THINGS = label 1
        assertEquals(1, val.get("val/ILSVRC2012_val_00000003.JPEG").label);
        assertEquals(2, val.get("val/ILSVRC2012_val_00000004.JPEG").label);       // ID 2 = EMPTY = label 2
        Manifest m = Manifest.read(tmp.resolve("out").toString(), new Configuration());
        assertEquals(3, m.numClasses(), "the synset mapping defines the classes, with or without train images");
        assertEquals("tabby, tabby cat", m.classes().get(0).name);
        assertEquals("class without images", m.classes().get(2).name);
    }

    @Test
    void devkitGroundTruthWithoutIdMappingIsAClearError() {
        Path root = smallTree();
        ImageNetTree.flatVal(root);
        Fixtures.write(root.resolve("ILSVRC2012_validation_ground_truth.txt"), "1\n2\n1\n2\n".getBytes(StandardCharsets.UTF_8));
        PrepOptions o = new PrepOptions();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(root, o));
        assertTrue(e.getMessage().contains("--val-id-mapping") && e.getMessage().contains("not the alphabetical wnid order"), e.getMessage());
    }

    @Test
    void flatValWithoutAnyLabelsFileIsAClearError() {
        Path root = smallTree();
        ImageNetTree.flatVal(root);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(root, new PrepOptions()));
        assertTrue(e.getMessage().contains("LOC_val_solution.csv"), e.getMessage());
    }

    @Test
    void valInClassFolders() {
        Path root = smallTree();
        Fixtures.write(root.resolve("val/" + ImageNetTree.THINGS + "/x.JPEG"), Fixtures.photo("rocket.jpg"));
        Fixtures.write(root.resolve("val/" + ImageNetTree.CAT + "/y.jpg"), Fixtures.photo("chelsea.jpg"));
        Fixtures.write(root.resolve("val/n09999999/z.jpg"), Fixtures.photo("coffee.jpg"));   // not a class
        Map<String, ImageRecord> val = run(root, new PrepOptions());
        assertEquals(1, val.get("val/" + ImageNetTree.THINGS + "/x.JPEG").label);
        assertEquals(0, val.get("val/" + ImageNetTree.CAT + "/y.jpg").label);
        assertEquals(2, val.size());
        Manifest m = Manifest.read(tmp.resolve("out").toString(), new Configuration());
        assertTrue(m.quarantine.stream().anyMatch(q -> q.path.equals("val/n09999999/z.jpg") && q.reason.contains("not in the class index")));
    }
}
