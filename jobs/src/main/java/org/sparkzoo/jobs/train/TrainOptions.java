package org.sparkzoo.jobs.train;

import com.fasterxml.jackson.annotation.JsonIgnore;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.WeightDecayKind;
import org.sparkzoo.models.training.SgdMomentum;

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
    /** "sgd" (torch.optim.SGD: plain momentum), "nesterov" (DL4J's Nesterovs), "adam". */
    public String optimizer = "nesterov";
    /** Momentum of sgd and nesterov; 0 with sgd = plain SGD. */
    public double momentum = 0.9;
    /** Learning rate for a global batch of {@link #lrReferenceBatch}; scaled linearly to the real global batch. */
    public double lr = 0.1;
    public int lrReferenceBatch = 256;
    public double weightDecay = 1e-4;
    /** How weight decay acts: "l2" (added to the gradient before the optimizer, torch.optim's weight_decay) or "decoupled". */
    public String weightDecayMode = WeightDecayKind.L2.word();
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
    /** Drop-path rate; negative = the paper's (FractalNet 0.15 local + 50% global, NASNet none). */
    public double dropPath = -1;
    /** Dropout before the classifier; negative = the paper's rate of the model. */
    public double classifierDropout = -1;
    /** MobileNet width multiplier (alpha). */
    public double widthMultiplier = 1.0;
    /** Online augmentation: "random-resized-crop" (crop + flip), "random-crop" (pad by
     *  {@link #cropPadding}, crop back, flip: CIFAR's recipe), "flip" (flip only), "none" (resize + center crop). */
    public String augment = "random-resized-crop";
    /** random-crop: zero padding on each side before the crop; negative = input side / 8 (CIFAR's 4 px at 32). */
    public int cropPadding = -1;
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
    public boolean trainingStats = false;
    /** Minibatches each worker loads ahead in a background thread; 0 = load in the task thread. */
    public int prefetchBatches = 0;
    /** Keep each worker's network alive between rounds instead of rebuilding it (see ReusingTrainingMaster). */
    public boolean reuseNetwork = true;
    /** "sparkzoo" (RoundTrainingMaster) or "stock" (dl4j-spark's ParameterAveragingTrainingMaster as shipped). */
    public String trainingMaster = "sparkzoo";
    /** Average the workers' updater state every N rounds (and before checkpoints); 1 = every round, as dl4j-spark does. */
    public int updaterAveragingEvery = 1;
    /** Parameters and updater state travel in bfloat16 (out rounded, back as each worker's change); the driver keeps them in full precision. */
    public boolean bf16Parameters = false;
    /** Stop after this many rounds in total (for smoke tests and benchmarks); 0 = no limit. */
    public int maxRounds = 0;
    /** Recipe file (key = value lines of these options); empty = conf/recipes by model and family. */
    public String recipe = "";

    public int globalBatch(int numWorkers) {
        return batchSizePerWorker * numWorkers;
    }

    /** The optimizer these options name, at learning rate {@code lr}. */
    public IUpdater updater(double lr) {
        switch (optimizer) {
            case "sgd":
                return momentum == 0 ? new Sgd(lr) : new SgdMomentum(lr, momentum);
            case "nesterov":
                return new Nesterovs(lr, momentum);
            case "adam":
                return new Adam(lr);
            default:
                throw new IllegalArgumentException("unknown --optimizer '" + optimizer + "' (sgd, nesterov, adam)");
        }
    }

    /** What these options mean for the network: classes and input, seed, optimizer at {@code lr}, weight decay, drop rates, width. */
    public ModelConfig modelConfig(int numClasses, int imageSize, double lr) {
        return ModelConfig.of(numClasses, channels, imageSize, imageSize)
                .withSeed(seed)
                .withUpdater(updater(lr))
                .withWeightDecay(weightDecay, WeightDecayKind.of(weightDecayMode))
                .withStochasticDepth(stochasticDepth)
                .withDropPath(dropPath)
                .withDropout(classifierDropout)
                .withWidthMultiplier(widthMultiplier);
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
