package org.sparkzoo.jobs.eval;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.sparkzoo.dataprep.ImageRecord;
import org.sparkzoo.dataprep.Manifest;
import org.sparkzoo.dataprep.PrepOptions;
import org.sparkzoo.dataprep.PrepPipeline;
import org.sparkzoo.dataprep.idx.IdxToImageNet;
import org.sparkzoo.dataprep.transform.Compose;
import org.sparkzoo.dataprep.transform.RandomHorizontalFlip;
import org.sparkzoo.dataprep.transform.Resize;
import org.sparkzoo.dataprep.transform.Transform;
import org.sparkzoo.jobs.SparkSessions;
import org.sparkzoo.jobs.checkpoint.Checkpoints;
import org.sparkzoo.jobs.checkpoint.TrainState;
import org.sparkzoo.jobs.data.ImageBatches;
import org.sparkzoo.jobs.data.ShardSlice;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelRegistry;
import org.sparkzoo.models.NativeKernels;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

/**
 * Real data for the eval tests, built once per test JVM: a subset of Fashion-MNIST (Debian's dataset-fashion-mnist)
 * converted by IdxToImageNet, prepared into raw shards by prep-job's pipeline on a local[2] SparkSession, and two
 * lenet5 checkpoints trained with different seeds for {@value #EPOCHS} epochs on random 28px crops of the 32px
 * resize, mirrored at random (the augmentation ten-crop undoes), written with train-job's checkpoint code.
 */
public final class FashionMnistRun {
    static final Path DATASET = Paths.get("/usr/share/datasets/fashion-mnist");
    static final int TRAIN_IMAGES = 6000;
    static final int VAL_IMAGES = 2000;
    static final int EPOCHS = 2;
    static final int SIZE = 28;

    private static FashionMnistRun instance;

    public final SparkSession spark;
    public final Configuration hadoop;
    final Path root;
    public final String data;
    public final Manifest manifest;
    final String modelA;
    final String modelB;

    private FashionMnistRun() throws IOException {
        if (!Files.isDirectory(DATASET)) {
            throw new IllegalStateException(DATASET + " is missing: install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)");
        }
        long t0 = System.nanoTime();
        NativeKernels.enable();
        if (System.getProperty("spark.master") == null) {
            System.setProperty("spark.master", "local[2]");
        }
        System.setProperty("spark.ui.enabled", "false");
        spark = SparkSessions.create("sparkzoo eval tests");
        hadoop = spark.sparkContext().hadoopConfiguration();
        root = Files.createTempDirectory("sparkzoo-eval-test");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> org.apache.commons.io.FileUtils.deleteQuietly(root.toFile())));
        IdxToImageNet.convert(List.of(DATASET), root.resolve("imagenet"), null, TRAIN_IMAGES, VAL_IMAGES, 95);
        PrepOptions p = new PrepOptions();
        p.input = root.resolve("imagenet").toUri().toString();
        p.output = root.resolve("shards").toUri().toString();
        p.resizeShortSide = 0;
        p.storage = "raw";
        p.shardSize = 700;
        PrepPipeline.run(spark, p, new PrintStream(new ByteArrayOutputStream()));
        data = p.output;
        manifest = Manifest.read(data, hadoop);
        modelA = train(1, "a");
        modelB = train(2, "b");
        System.out.printf("fixture: %d train / %d val Fashion-MNIST images prepared, two lenet5 trained, in %.1f s%n",
                manifest.split("train").count, manifest.split("val").count, (System.nanoTime() - t0) / 1e9);
    }

    public static synchronized FashionMnistRun get() throws IOException {
        if (instance == null) {
            instance = new FashionMnistRun();
        }
        return instance;
    }

    /** Random 28x28 window of the (32px) image: torchvision's RandomCrop, which data-prep has no class for. */
    static Transform randomCrop(int size) {
        return (img, rng) -> {
            int top = rng.nextInt(img.height - size + 1);
            int left = rng.nextInt(img.width - size + 1);
            int row = size * img.channels;
            byte[] d = new byte[size * row];
            for (int y = 0; y < size; y++) {
                System.arraycopy(img.data, ((top + y) * img.width + left) * img.channels, d, y * row, row);
            }
            return new org.sparkzoo.dataprep.image.Image(d, size, size, img.channels);
        };
    }

    /** Minibatch SGD (Adam) in this JVM over the train split's shards, then a train-job checkpoint. */
    private String train(long seed, String name) throws IOException {
        ComputationGraph net = ModelRegistry.get("lenet5").build(ModelConfig.of(10, 1, SIZE, SIZE).withSeed(seed).withUpdater(new Adam(2e-3)));
        Transform augment = new Compose(new Resize(32), randomCrop(SIZE), new RandomHorizontalFlip(0.5));
        List<ShardSlice> slices = ShardSlice.cut(data, manifest.split("train"), 50);
        Random rng = new Random(seed);
        for (int epoch = 0; epoch < EPOCHS; epoch++) {
            List<ShardSlice> order = new ArrayList<>(slices);
            Collections.shuffle(order, rng);
            for (ShardSlice s : order) {
                List<ImageRecord> records = s.read(hadoop);
                net.fit(new DataSet(ImageBatches.features(records, augment, 1, SIZE, rng), ImageBatches.labels(records, 10, 0)));
            }
        }
        return checkpoint(net, "lenet5", SIZE, seed, EPOCHS, name);
    }

    /** A train-job checkpoint of {@code model} at {@code size} px as initialized, untrained: for what needs no accuracy. */
    String initialized(String model, int size, long seed, String name) throws IOException {
        ComputationGraph net = ModelRegistry.get(model).build(ModelConfig.of(10, 1, size, size).withSeed(seed));
        return checkpoint(net, model, size, seed, 0, name);
    }

    private String checkpoint(ComputationGraph net, String model, int size, long seed, int epochs, String name) throws IOException {
        TrainState state = new TrainState();
        state.model = model;
        state.imageSize = size;
        state.channels = 1;
        state.numClasses = 10;
        state.classes = wnids();
        state.manifestId = manifest.id();
        state.seed = seed;
        state.epoch = epochs;
        return Checkpoints.write(net, state, new org.apache.hadoop.fs.Path(root.resolve("run-" + name).resolve("model.zip").toUri()), hadoop);
    }

    List<String> wnids() {
        return manifest.classes().stream().map(c -> c.wnid).collect(Collectors.toList());
    }

    EvalOptions options(String views, String... checkpoints) {
        EvalOptions o = new EvalOptions();
        o.data = data;
        o.views = views;
        o.checkpoints = List.of(checkpoints);
        return o;
    }

    EvalResult evaluate(String views, String... checkpoints) throws IOException {
        EvalOptions o = options(views, checkpoints);
        return Evaluator.evaluate(spark, o.checkpoints, data, o);
    }
}
