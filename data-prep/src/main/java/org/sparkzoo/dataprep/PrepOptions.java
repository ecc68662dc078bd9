package org.sparkzoo.dataprep;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything prep-job can be told. Plain public fields with working defaults; each field's javadoc is its
 * {@code --help} line. Paths are Hadoop URIs ({@code file:}, {@code hdfs:}, {@code s3a:}) or local paths.
 */
public class PrepOptions implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * Dataset root (required). ImageNet layout: a folder holding {@code train/<wnid>/*} and {@code val/}
     * (Kaggle's {@code ILSVRC/Data/CLS-LOC/} below it is found too), or {@code ILSVRC2012_img_train.tar}
     * (a tar of per-class tars, read in place). IDX layout: a folder with
     * {@code train-images-idx3-ubyte[.gz]}, {@code train-labels-idx1-ubyte[.gz]}, {@code t10k-*} (MNIST family).
     */
    public String input;
    /** Output dataset folder for the Parquet shards and manifest.json (required). */
    public String output;
    /** Input layout: {@code auto} (IDX when IDX files are present, else ImageNet), {@code imagenet}, {@code idx}. Default auto. */
    public String layout = "auto";
    /** Training images folder below the input root, one subfolder per class (wnid). Default {@code train}. */
    public String trainDir = "train";
    /**
     * Validation images folder below the input root: flat with a labels file, or one subfolder per class.
     * Default {@code val}; a missing folder means no val split.
     */
    public String valDir = "val";
    /**
     * Labels of a flat val folder. Default: auto-detect, in the input root, the image root, the val folder's
     * parent and {@code ILSVRC2012_devkit_t12/data/}: Kaggle's {@code LOC_val_solution.csv}
     * ({@code ImageId,PredictionString}, first token of PredictionString = wnid), else the devkit's
     * {@code ILSVRC2012_validation_ground_truth.txt} (one 1-based ILSVRC2012_ID per line, line i is
     * {@code ILSVRC2012_val_<i, 8 digits>}), which needs {@link #valIdMapping}.
     */
    public String valLabels;
    /**
     * For the devkit's ground-truth file: text file mapping ILSVRC2012_ID to wnid, one {@code <id> <wnid> [words]}
     * per line (export it from the devkit's {@code meta.mat}: the ILSVRC2012_ID and WNID fields of
     * {@code synsets}; the devkit's IDs are NOT in alphabetical wnid order). Default: auto-detect
     * {@code ILSVRC2012_mapping.txt} or {@code synsets.txt} where the labels file is looked for.
     */
    public String valIdMapping;
    /**
     * Class index and human names: {@code <wnid> <name>} per line (Kaggle's {@code LOC_synset_mapping.txt});
     * labels are assigned in alphabetical wnid order. Default: auto-detect {@code LOC_synset_mapping.txt};
     * without one, the sorted names of the train class folders that hold images.
     */
    public String synsetMapping;
    /**
     * Resize so the short side is this many pixels (aspect kept; smaller images are never enlarged);
     * JPEGs are decoded at reduced DCT size when they are at least twice as large. 0 keeps the size. Default 256.
     */
    public int resizeShortSide = 256;
    /** How images are stored in the shards: {@code jpeg} (re-encoded at {@link #jpegQuality}) or {@code raw} (uint8 HWC). Default jpeg. */
    public String storage = "jpeg";
    /** JPEG quality 1-100 for {@code storage=jpeg}. Default 90. */
    public int jpegQuality = 90;
    /** Center-crop val images to this square size after resizing (padding with black if smaller); 0 = off. Default 0. */
    public int valCenterCrop = 0;
    /**
     * Extra augmented copies of each training image, written offline beside the original:
     * RandomResizedCrop(S) + RandomHorizontalFlip + ColorJitter(0.4, 0.4, 0.4) + Lighting(0.1), seeded per image
     * (S = the resized short side, or the image's own short side when resizing is off). Default 0.
     */
    public int augmentCopies = 0;
    /** Images per Parquet shard; every shard but the last of a split holds exactly this many. Default 1024. */
    public int shardSize = 1024;
    /** Seed for the global shuffle and the augmentation; same input + seed give byte-identical shards. Default 42. */
    public long seed = 42;
    /** Replace an existing output dataset (only one written by prep-job). Default false: refuse. */
    public boolean overwrite = false;
    /** Use at most this many images per class and split (the first in path order), for quick runs; 0 = all. Default 0. */
    public int limitPerClass = 0;
    /**
     * Channels to store: 3 (RGB; grey and CMYK sources are converted), 1 (grey), or 0 = auto: 1 for IDX input
     * and for ImageNet-layout input whose sampled training images are all grey, else 3. Default 0.
     */
    public int channels = 0;
    /**
     * IDX layout only: class names in label order, comma-separated. Default: Fashion-MNIST's names when the
     * input path mentions "fashion", else the digits 0-9.
     */
    public String classNames;
    /** Seconds between progress lines (images done of total, images/s, ETA); 0 = none. Default 10. */
    public int progressSeconds = 10;
    /** Spark tasks for decoding; 0 = auto (about 128 images per task, at least 4 per core). Default 0. */
    public int partitions = 0;

    /** The options as a map, for the manifest. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("input", input);
        m.put("output", output);
        m.put("layout", layout);
        m.put("trainDir", trainDir);
        m.put("valDir", valDir);
        m.put("valLabels", valLabels);
        m.put("valIdMapping", valIdMapping);
        m.put("synsetMapping", synsetMapping);
        m.put("resizeShortSide", resizeShortSide);
        m.put("storage", storage);
        m.put("jpegQuality", jpegQuality);
        m.put("valCenterCrop", valCenterCrop);
        m.put("augmentCopies", augmentCopies);
        m.put("shardSize", shardSize);
        m.put("seed", seed);
        m.put("limitPerClass", limitPerClass);
        m.put("channels", channels);
        m.put("classNames", classNames);
        return m;
    }

    /** Rejects impossible values with a message naming the option. */
    public void validate() {
        if (input == null || input.isBlank()) throw new IllegalArgumentException("--input is required: the dataset root");
        if (output == null || output.isBlank()) throw new IllegalArgumentException("--output is required: the dataset folder to write");
        if (!layout.equals("auto") && !layout.equals("imagenet") && !layout.equals("idx")) {
            throw new IllegalArgumentException("--layout must be auto, imagenet or idx, got '" + layout + "'");
        }
        if (!storage.equals(ImageRecord.JPEG) && !storage.equals(ImageRecord.RAW)) {
            throw new IllegalArgumentException("--storage must be jpeg or raw, got '" + storage + "'");
        }
        if (jpegQuality < 1 || jpegQuality > 100) throw new IllegalArgumentException("--jpeg-quality must be 1..100, got " + jpegQuality);
        if (resizeShortSide < 0) throw new IllegalArgumentException("--resize must be >= 0, got " + resizeShortSide);
        if (valCenterCrop < 0) throw new IllegalArgumentException("--val-center-crop must be >= 0, got " + valCenterCrop);
        if (augmentCopies < 0) throw new IllegalArgumentException("--augment-copies must be >= 0, got " + augmentCopies);
        if (shardSize < 1) throw new IllegalArgumentException("--shard-size must be >= 1, got " + shardSize);
        if (limitPerClass < 0) throw new IllegalArgumentException("--limit-per-class must be >= 0, got " + limitPerClass);
        if (channels != 0 && channels != 1 && channels != 3) throw new IllegalArgumentException("--channels must be 0, 1 or 3, got " + channels);
    }
}
