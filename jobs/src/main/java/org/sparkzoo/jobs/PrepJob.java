package org.sparkzoo.jobs;

import org.apache.spark.sql.SparkSession;
import org.sparkzoo.dataprep.PrepOptions;
import org.sparkzoo.dataprep.PrepPipeline;
import org.sparkzoo.jobs.cli.Cli;

import java.util.List;

/** prep-job: an ImageNet-layout tree (or IDX files) into shuffled Parquet shards and manifest.json. */
public final class PrepJob {
    private PrepJob() {
    }

    static Cli<PrepOptions> cli() {
        PrepOptions d = new PrepOptions();
        return new Cli<PrepOptions>("prep-job", "images -> decoded, cleaned, resized, augmented -> Parquet shards + manifest.json")
                .string("input", "<uri>", null, "dataset root: train/<wnid>/*, val/ + labels file; or IDX files; or ILSVRC2012_img_train.tar", (o, v) -> o.input = v)
                .string("output", "<uri>", null, "dataset folder to write (shards + manifest.json); any Hadoop URI", (o, v) -> o.output = v)
                .choice("layout", List.of("auto", "imagenet", "idx"), d.layout, "input layout", (o, v) -> o.layout = v)
                .string("train-dir", "<name>", d.trainDir, "training folder below the input root", (o, v) -> o.trainDir = v)
                .string("val-dir", "<name>", d.valDir, "validation folder below the input root (flat + labels file, or class folders)", (o, v) -> o.valDir = v)
                .string("val-labels", "<file>", "auto: LOC_val_solution.csv, else ILSVRC2012_validation_ground_truth.txt", "labels of a flat val folder", (o, v) -> o.valLabels = v)
                .string("val-id-mapping", "<file>", "auto: ILSVRC2012_mapping.txt or synsets.txt", "devkit ILSVRC2012_ID -> wnid lines ('<id> <wnid>') for the devkit ground truth", (o, v) -> o.valIdMapping = v)
                .string("synset-mapping", "<file>", "auto: LOC_synset_mapping.txt, else sorted class folders", "class index and names ('<wnid> <name>' lines)", (o, v) -> o.synsetMapping = v)
                .integer("resize", d.resizeShortSide, "resize the short side to this (never enlarges); 0 keeps the size", (o, v) -> o.resizeShortSide = v)
                .choice("storage", List.of("jpeg", "raw"), d.storage, "how images are stored in the shards", (o, v) -> o.storage = v)
                .integer("jpeg-quality", d.jpegQuality, "JPEG quality for --storage jpeg", (o, v) -> o.jpegQuality = v)
                .integer("val-center-crop", d.valCenterCrop, "center-crop val images to this size after resizing; 0 = off", (o, v) -> o.valCenterCrop = v)
                .integer("augment-copies", d.augmentCopies, "extra augmented copies per training image (RandomResizedCrop, flip, ColorJitter, Lighting)", (o, v) -> o.augmentCopies = v)
                .integer("shard-size", d.shardSize, "images per Parquet shard", (o, v) -> o.shardSize = v)
                .longValue("seed", d.seed, "seed of the shuffle and the augmentation", (o, v) -> o.seed = v)
                .integer("channels", d.channels, "channels to store: 3, 1, or 0 = auto (1 for greyscale datasets)", (o, v) -> o.channels = v)
                .integer("limit-per-class", d.limitPerClass, "at most this many images per class and split; 0 = all", (o, v) -> o.limitPerClass = v)
                .string("class-names", "<a,b,...>", "Fashion-MNIST's or digits", "IDX input: class names in label order", (o, v) -> o.classNames = v)
                .integer("partitions", d.partitions, "Spark tasks for decoding; 0 = auto", (o, v) -> o.partitions = v)
                .integer("progress-seconds", d.progressSeconds, "seconds between progress lines; 0 = none", (o, v) -> o.progressSeconds = v)
                .flag("overwrite", "replace an existing output dataset", o -> o.overwrite = true)
                .check(o -> {
                    try {
                        o.validate();
                        return null;
                    } catch (IllegalArgumentException e) {
                        return e.getMessage();
                    }
                });
    }

    public static void main(String[] args) {
        JobMain.run("prep-job", () -> {
            PrepOptions options = cli().parse(args, new PrepOptions(), System.out);
            SparkSession spark = SparkSessions.create("sparkzoo prep-job");
            try {
                PrepPipeline.run(spark, options); // prints its progress, reconciliation and manifest path
            } finally {
                spark.stop();
            }
        });
    }
}
