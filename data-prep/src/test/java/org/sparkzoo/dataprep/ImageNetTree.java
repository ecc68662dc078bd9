package org.sparkzoo.dataprep;

import org.sparkzoo.dataprep.image.HugePhoto;
import org.sparkzoo.dataprep.image.ImageCodec;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Builds a small ImageNet-layout tree from the real test photos, with the defects of the real archive:
 * CMYK / YCCK / grey / progressive JPEGs, a PNG named .JPEG, a real .png, a huge photo, one smaller than
 * any crop, odd file names, AppleDouble and hidden files, a README among class folders, a class folder
 * without images, and unusable files (empty, truncated, not an image).
 */
public final class ImageNetTree {
    public static final String CAT = "n01000001", THINGS = "n01000002", EMPTY = "n01000003";
    /** Usable files per class, and unusable ones (all in THINGS). */
    public static final int CAT_IMAGES = 5, THINGS_IMAGES = 6, THINGS_BAD = 4;
    public static final String ODD_NAME = "café photo ü (1).JPEG";

    private ImageNetTree() {
    }

    public static void trainTree(Path root) {
        Path train = root.resolve("train");
        Path cat = train.resolve(CAT), things = train.resolve(THINGS);
        Fixtures.write(cat.resolve("chelsea.JPEG"), Fixtures.photo("chelsea.jpg"));
        Fixtures.write(cat.resolve(ODD_NAME), Fixtures.photo("coffee.jpg"));
        Fixtures.write(cat.resolve("cmyk.JPEG"), Fixtures.photo("cmyk.jpg"));
        Fixtures.write(cat.resolve("ycck.jpeg"), Fixtures.photo("ycck.jpg"));
        Fixtures.write(cat.resolve("grey.jpg"), Fixtures.photo("grey.jpg"));
        Fixtures.write(cat.resolve("._chelsea.JPEG"), "\0\5\26\7AppleDouble resource fork".getBytes(StandardCharsets.ISO_8859_1));
        Fixtures.write(cat.resolve(".DS_Store"), new byte[]{0, 0, 0, 1, 'B', 'u', 'd', '1'});
        Fixtures.write(cat.resolve("notes.txt"), "not an image".getBytes(StandardCharsets.UTF_8));

        Fixtures.write(things.resolve("progressive.JPEG"), Fixtures.photo("progressive.jpg"));
        Fixtures.write(things.resolve("png_named_as.JPEG"), Fixtures.photo("png_named_as.JPEG"));
        Fixtures.write(things.resolve("small.JPG"), Fixtures.photo("small.jpg"));
        Fixtures.write(things.resolve("huge.JPEG"), HugePhoto.jpeg());
        Fixtures.write(things.resolve("rocket.jpg"), Fixtures.photo("rocket.jpg"));
        try {
            Fixtures.write(things.resolve("astronaut.PNG"), ImageCodec.encodePng(ImageCodec.decode(Fixtures.photo("astronaut.jpg"), 3, 0)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        // unusable
        Fixtures.write(things.resolve("empty.JPEG"), new byte[0]);
        Fixtures.write(things.resolve("truncated.JPEG"), Fixtures.photo("truncated.jpg"));
        byte[] chelsea = Fixtures.photo("chelsea.jpg");
        Fixtures.write(things.resolve("cut.JPEG"), Arrays.copyOf(chelsea, chelsea.length / 3));
        Fixtures.write(things.resolve("readme.JPEG"), "<html>404 Not Found</html>".getBytes(StandardCharsets.UTF_8));

        Fixtures.write(train.resolve(EMPTY).resolve("._placeholder.JPEG"), new byte[]{0});
        Fixtures.write(train.resolve("README"), "ImageNet train".getBytes(StandardCharsets.UTF_8));
    }

    /** Flat val: ILSVRC2012_val_00000001..3 (cat, things, cat) plus an unlabeled 00000004. */
    public static void flatVal(Path root) {
        Path val = root.resolve("val");
        Fixtures.write(val.resolve("ILSVRC2012_val_00000001.JPEG"), Fixtures.photo("chelsea.jpg"));
        Fixtures.write(val.resolve("ILSVRC2012_val_00000002.JPEG"), Fixtures.photo("rocket.jpg"));
        Fixtures.write(val.resolve("ILSVRC2012_val_00000003.JPEG"), Fixtures.photo("cmyk.jpg"));
        Fixtures.write(val.resolve("ILSVRC2012_val_00000004.JPEG"), Fixtures.photo("coffee.jpg"));
        Fixtures.write(val.resolve("._ILSVRC2012_val_00000001.JPEG"), new byte[]{0, 5, 22, 7});
    }

    public static void kaggleLabels(Path root) {
        Fixtures.write(root.resolve("LOC_val_solution.csv"), ("ImageId,PredictionString\n"
                + "ILSVRC2012_val_00000001," + CAT + " 10 10 200 200 " + CAT + " 0 0 5 5 \n"
                + "ILSVRC2012_val_00000002," + THINGS + " 0 0 100 100\n"
                + "ILSVRC2012_val_00000003," + CAT + " 1 1 2 2\n").getBytes(StandardCharsets.UTF_8));
    }

    public static void synsetMapping(Path root) {
        Fixtures.write(root.resolve("LOC_synset_mapping.txt"), (CAT + " tabby, tabby cat\n" + THINGS + " assorted things\n"
                + EMPTY + " class without images\n").getBytes(StandardCharsets.UTF_8));
    }
}
