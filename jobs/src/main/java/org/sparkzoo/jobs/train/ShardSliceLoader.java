package org.sparkzoo.jobs.train;

import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.SerializableConfiguration;
import org.deeplearning4j.core.loader.MultiDataSetLoader;
import org.nd4j.common.loader.Source;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.sparkzoo.dataprep.ImageRecord;
import org.sparkzoo.dataprep.transform.CenterCrop;
import org.sparkzoo.dataprep.transform.Compose;
import org.sparkzoo.dataprep.transform.Presets;
import org.sparkzoo.dataprep.transform.RandomCrop;
import org.sparkzoo.dataprep.transform.RandomHorizontalFlip;
import org.sparkzoo.dataprep.transform.Resize;
import org.sparkzoo.dataprep.transform.Transform;
import org.sparkzoo.jobs.data.ImageBatches;
import org.sparkzoo.jobs.data.ShardSlice;
import org.sparkzoo.models.NativeKernels;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * dl4j-spark's seam for reading training data on the executors: given a {@link ShardSlice} path, reads those
 * rows of the Parquet shard, decodes and augments them afresh (a new random crop/flip every epoch) and returns
 * one MultiDataSet, which dl4j-spark cuts into minibatches. No float tensor is ever written to disk.
 */
public final class ShardSliceLoader implements MultiDataSetLoader {
    private static final long serialVersionUID = 1L;

    static {
        // Runs when a task deserializes this loader on an executor, before the worker builds its network.
        NativeKernels.enable();
    }

    private final int channels;
    private final int imageSize;
    private final int numClasses;
    private final int numOutputs;
    private final String augment;
    private final int cropPadding;
    private final double labelSmoothing;
    private final long seed;
    private final int epoch;
    /** Spark's Hadoop configuration (spark.hadoop.* settings: credentials, endpoints, fs.defaultFS). */
    private final Broadcast<SerializableConfiguration> hadoop;

    public ShardSliceLoader(int channels, int imageSize, int numClasses, int numOutputs, String augment, int cropPadding,
                            double labelSmoothing, long seed, int epoch, Broadcast<SerializableConfiguration> hadoop) {
        this.hadoop = hadoop;
        this.channels = channels;
        this.imageSize = imageSize;
        this.numClasses = numClasses;
        this.numOutputs = numOutputs;
        this.augment = augment;
        this.cropPadding = cropPadding;
        this.labelSmoothing = labelSmoothing;
        this.seed = seed;
        this.epoch = epoch;
    }

    /**
     * The transform of an augmentation mode; "none" is evaluation's resize + center crop. {@code cropPadding} is
     * random-crop's padding; negative = imageSize / 8, CIFAR's 4 px at 32.
     */
    public static Transform transform(String augment, int imageSize, int cropPadding) {
        switch (augment) {
            case "random-resized-crop":
                return Presets.train(imageSize);
            case "random-crop":
                return new Compose(new Resize(imageSize), new CenterCrop(imageSize),
                        new RandomCrop(imageSize, cropPadding >= 0 ? cropPadding : imageSize / 8), new RandomHorizontalFlip(0.5));
            case "flip":
                return new Compose(new Resize(imageSize), new CenterCrop(imageSize), new RandomHorizontalFlip(0.5));
            case "none":
                return Presets.eval(imageSize, imageSize);
            default:
                throw new IllegalArgumentException("unknown augmentation '" + augment + "' (random-resized-crop, random-crop, flip, none)");
        }
    }

    @Override
    public MultiDataSet load(Source source) throws IOException {
        ShardSlice slice = ShardSlice.parse(source.getPath());
        List<ImageRecord> records = slice.read(hadoop.value().value());
        Random rng = new Random(seed ^ (31L * epoch + slice.path().hashCode()) * 0x9E3779B97F4A7C15L);
        INDArray features = ImageBatches.features(records, transform(augment, imageSize, cropPadding), channels, imageSize, rng);
        INDArray labels = ImageBatches.labels(records, numClasses, labelSmoothing);
        INDArray[] perOutput = new INDArray[numOutputs];
        Arrays.fill(perOutput, labels);
        return new org.nd4j.linalg.dataset.MultiDataSet(new INDArray[]{features}, perOutput);
    }
}
