package org.sparkzoo.jobs.train;

import com.fasterxml.jackson.annotation.JsonIgnore;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything train-job can be told, with defaults that work. Filled by {@code TrainJob}'s command line on top of
 * the model's recipe ({@code conf/recipes/}), in that order of precedence.
 */
public final class TrainOptions implements Serializable {
    private static final long serialVersionUID = 1L;

    public String model = "lenet5";
    /** Dataset folder written by prep-job (holds manifest.json). */
    public String data;
    /** Run folder: checkpoints, metrics, curves, final model. */
    public String output;
    /** Training input side; 0 = the model's default. */
    public int imageSize = 0;
    /** 1 = greyscale, 3 = RGB. */
    public int channels = 3;
    public int epochs = 2;
    /** Parallel training workers (Spark tasks per round); 0 = Spark's default parallelism. */
    public int workers = 0;
    public int batchSizePerWorker = 32;
    /** Whether the user chose the batch (command line or own recipe); else it is lowered to what fits the memory. */
    @JsonIgnore
    public boolean batchSizeGiven = false;
    /** Minibatches each worker fits between parameter averagings. */
    public int averagingFrequency = 5;
    public String optimizer = "nesterov";
    public double momentum = 0.9;
    /** Learning rate for a global batch of {@link #lrReferenceBatch}; scaled linearly to the real global batch. */
    public double lr = 0.1;
    public int lrReferenceBatch = 256;
    public double weightDecay = 1e-4;
    public String lrSchedule = "cosine";
    /** Step schedule: epochs between decays. */
    public int lrStepEpochs = 30;
    /** Step schedule: decay factor. */
    public double lrGamma = 0.1;
    /** Poly schedule: power. */
    public double lrPower = 2.0;
    public double warmupEpochs = 0;
    public double labelSmoothing = 0;
    public double stochasticDepth = 0;
    public double dropPath = 0;
    /** Online augmentation: "random-resized-crop" (crop + flip), "flip" (flip only), "none" (resize + center crop). */
    public String augment = "random-resized-crop";
    public long seed = 42;
    /** Validate on the val split every N epochs; 0 = never (eval-job does the full evaluation). */
    public int validateEvery = 1;
    /** Also checkpoint every N rounds inside an epoch; 0 = only at epoch ends. */
    public int checkpointEveryRounds = 0;
    /** Periodic checkpoints to keep (the best and the final model are kept apart). */
    public int keepCheckpoints = 3;
    public boolean resume = false;
    public boolean overwrite = false;
    /** Collect dl4j-spark's training stats and write its HTML timeline. */
    public boolean trainingStats = true;
    /** Minibatches each worker loads ahead in a background thread; 0 = load in the task thread. */
    public int prefetchBatches = 0;
    /** Keep each worker's network alive between rounds instead of rebuilding it (see ReusingTrainingMaster). */
    public boolean reuseNetwork = true;
    /** Stop after this many rounds in total (for smoke tests and benchmarks); 0 = no limit. */
    public int maxRounds = 0;
    /** Recipe file (key = value lines of these options); empty = conf/recipes by model and family. */
    public String recipe = "";

    public int globalBatch(int numWorkers) {
        return batchSizePerWorker * numWorkers;
    }

    /** The options that must not change across a resume, as name -> value. */
    public Map<String, Object> resumeIdentity() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("image-size", imageSize);
        m.put("channels", channels);
        m.put("batch-size-per-worker", batchSizePerWorker);
        m.put("averaging-frequency", averagingFrequency);
        m.put("optimizer", optimizer);
        m.put("seed", seed);
        return m;
    }
}
