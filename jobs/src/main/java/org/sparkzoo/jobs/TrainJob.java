package org.sparkzoo.jobs;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.sparkzoo.jobs.cli.Cli;
import org.sparkzoo.jobs.train.MemoryCheck;
import org.sparkzoo.jobs.train.Recipes;
import org.sparkzoo.jobs.train.TrainOptions;
import org.sparkzoo.jobs.train.Trainer;
import org.sparkzoo.models.ModelCatalog;
import org.sparkzoo.models.ModelRegistry;
import org.sparkzoo.models.NativeKernels;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** train-job: trains a zoo model on prep-job's shards with dl4j-spark's parameter averaging. */
public final class TrainJob {
    private TrainJob() {
    }

    static Cli<TrainOptions> cli() {
        TrainOptions d = new TrainOptions();
        return new Cli<TrainOptions>("train-job", "trains a model of the zoo across the cluster by parameter averaging (dl4j-spark)")
                .string("model", "<name>", d.model, "model to train (--list-models shows the zoo)", (o, v) -> o.model = v)
                .flag("list-models", "print the zoo: name, family, paper, parameters, multiply-adds, input sizes; then exit", o -> { })
                .string("data", "<uri>", null, "dataset folder written by prep-job", (o, v) -> o.data = v)
                .string("output", "<uri>", null, "run folder: checkpoints/, metrics/, curves, training-stats.html, model.zip", (o, v) -> o.output = v)
                .string("recipe", "<file>", "conf/recipes/<model or family>.properties", "training recipe (option = value lines); command-line options win", (o, v) -> o.recipe = v)
                .integer("image-size", "the model's default", "training input side in pixels", (o, v) -> o.imageSize = v)
                .integer("channels", d.channels, "input channels: 3 (RGB) or 1 (greyscale)", (o, v) -> o.channels = v)
                .integer("epochs", d.epochs, "epochs to train (in total, counting a resumed run's)", (o, v) -> o.epochs = v)
                .integer("workers", "Spark's default parallelism", "parallel workers, one Spark task each per round", (o, v) -> o.workers = v)
                .integer("batch-size-per-worker", d.batchSizePerWorker, "minibatch size of each worker", (o, v) -> o.batchSizePerWorker = v)
                .integer("averaging-frequency", d.averagingFrequency, "minibatches each worker fits between parameter averagings", (o, v) -> o.averagingFrequency = v)
                .choice("optimizer", List.of("sgd", "nesterov", "adam"), d.optimizer,
                        "sgd: torch.optim.SGD with --momentum (plain, as torchvision's recipes); nesterov: Nesterov momentum; adam", (o, v) -> o.optimizer = v)
                .decimal("momentum", d.momentum, "momentum of sgd and nesterov (0 with sgd: plain SGD)", (o, v) -> o.momentum = v)
                .decimal("lr", d.lr, "learning rate for a global batch of --lr-reference-batch (linear scaling rule)", (o, v) -> o.lr = v)
                .integer("lr-reference-batch", d.lrReferenceBatch, "global batch that --lr is meant for; lr scales by workers x batch / this", (o, v) -> o.lrReferenceBatch = v)
                .decimal("weight-decay", d.weightDecay, "weight decay coefficient on every trainable parameter (how it acts: --weight-decay-mode)", (o, v) -> o.weightDecay = v)
                .choice("weight-decay-mode", List.of("l2", "decoupled"), d.weightDecayMode,
                        "l2: c*w added to the gradient before the optimizer (torch.optim's weight_decay); decoupled: w -= lr*c*w after it (AdamW)", (o, v) -> o.weightDecayMode = v)
                .choice("lr-schedule", List.of("step", "cosine", "poly", "constant"), d.lrSchedule, "learning-rate decay after warmup", (o, v) -> o.lrSchedule = v)
                .integer("lr-step-epochs", d.lrStepEpochs, "step schedule: epochs between decays", (o, v) -> o.lrStepEpochs = v)
                .decimal("lr-gamma", d.lrGamma, "step schedule: decay factor", (o, v) -> o.lrGamma = v)
                .decimal("lr-power", d.lrPower, "poly schedule: power", (o, v) -> o.lrPower = v)
                .decimal("warmup-epochs", d.warmupEpochs, "linear warmup from 1% of the rate, in epochs", (o, v) -> o.warmupEpochs = v)
                .decimal("label-smoothing", d.labelSmoothing, "label smoothing epsilon", (o, v) -> o.labelSmoothing = v)
                .decimal("stochastic-depth", d.stochasticDepth, "ResNets: drop rate of the last block (linear decay from 0)", (o, v) -> o.stochasticDepth = v)
                .decimal("drop-path", "the paper's", "FractalNet/NASNet: drop-path rate (the paper's: fractalnet 0.15 local + 50% global, nasnet_mobile 0)", (o, v) -> o.dropPath = v)
                .decimal("classifier-dropout", "the paper's", "dropout probability before the classifier (0 = none)", (o, v) -> o.classifierDropout = v)
                .decimal("width-multiplier", d.widthMultiplier, "MobileNet v1/v2: width multiplier alpha", (o, v) -> o.widthMultiplier = v)
                .choice("augment", List.of("random-resized-crop", "random-crop", "flip", "none"), d.augment, "online augmentation in the executors", (o, v) -> o.augment = v)
                .integer("crop-padding", "input side / 8", "random-crop: zero padding on each side before cropping back to the input side", (o, v) -> o.cropPadding = v)
                .longValue("seed", d.seed, "seed of initialization, data order and augmentation", (o, v) -> o.seed = v)
                .integer("validate-every", d.validateEvery, "validate on the val split every N epochs; 0 = never", (o, v) -> o.validateEvery = v)
                .integer("checkpoint-every-rounds", d.checkpointEveryRounds, "also checkpoint every N rounds; 0 = at epoch ends only", (o, v) -> o.checkpointEveryRounds = v)
                .integer("keep-checkpoints", d.keepCheckpoints, "periodic checkpoints to keep (best.zip and model.zip are kept apart)", (o, v) -> o.keepCheckpoints = v)
                .integer("prefetch", d.prefetchBatches, "minibatches each worker decodes ahead in a background thread (0: in the task, so a bad shard fails the task with its message instead of killing the executor)", (o, v) -> o.prefetchBatches = v)
                .integer("max-rounds", d.maxRounds, "stop after this many rounds in total; 0 = no limit", (o, v) -> o.maxRounds = v)
                .flag("resume", "continue the run in --output from its last checkpoint", o -> o.resume = true)
                .flag("overwrite", "replace a run already in --output", o -> o.overwrite = true)
                .flag("rebuild-network", "rebuild each worker's network from its configuration every round, as stock dl4j-spark does (default: keep it alive between rounds)", o -> o.reuseNetwork = false)
                .choice("training-master", List.of("sparkzoo", "stock"), d.trainingMaster,
                        "sparkzoo: one Spark job per averaging round, arrays copied in blocks, networks kept alive; stock: dl4j-spark's ParameterAveragingTrainingMaster as shipped (for comparison)", (o, v) -> o.trainingMaster = v)
                .integer("updater-averaging-every", d.updaterAveragingEvery,
                        "average the workers' optimizer state (momentum, Adam's moments) every N rounds and before checkpoints; in between each worker keeps its own and only parameters travel (1: every round)",
                        (o, v) -> o.updaterAveragingEvery = v)
                .flag("bf16-parameters", "parameters and updater state travel in bfloat16 both ways (half their bytes): out, the driver's rounded; back, how far each worker's round moved them; the driver adds the mean change to its full-precision copy", o -> o.bf16Parameters = true)
                .flag("training-stats", "collect dl4j-spark's training stats (a timeline of every round in training-stats.html; its event lists grow with the run)", o -> o.trainingStats = true)
                .check(o -> o.cropPadding < -1 ? "--crop-padding must be 0 or more (pixels of zero padding per side)" : null)
                .check(o -> ModelRegistry.contains(o.model) ? null : unknownModel(o.model))
                .check(o -> o.data == null ? "--data is required: the dataset folder written by prep-job" : null)
                .check(o -> o.output == null ? "--output is required: the run folder to write" : null)
                .check(o -> o.channels == 1 || o.channels == 3 ? null : "--channels must be 1 or 3, got " + o.channels)
                .check(o -> o.batchSizePerWorker > 0 && o.averagingFrequency > 0 && o.epochs > 0 ? null
                        : "--batch-size-per-worker, --averaging-frequency and --epochs must be positive")
                .check(o -> o.weightDecay >= 0 ? null : "--weight-decay must be >= 0, got " + o.weightDecay)
                .check(o -> o.momentum >= 0 && o.momentum < 1 ? null : "--momentum must be in [0, 1), got " + o.momentum)
                .check(o -> o.widthMultiplier > 0 ? null : "--width-multiplier must be > 0, got " + o.widthMultiplier)
                .check(o -> o.classifierDropout < 1 && (o.classifierDropout >= 0 || o.classifierDropout == -1) ? null
                        : "--classifier-dropout must be in [0, 1), got " + o.classifierDropout)
                .check(o -> o.dropPath < 1 && (o.dropPath >= 0 || o.dropPath == -1) ? null
                        : "--drop-path must be in [0, 1), got " + o.dropPath)
                .check(o -> o.updaterAveragingEvery >= 1 ? null : "--updater-averaging-every must be 1 or more, got " + o.updaterAveragingEvery)
                .check(o -> o.updaterAveragingEvery == 1 || (o.reuseNetwork && o.trainingMaster.equals("sparkzoo")) ? null
                        : "--updater-averaging-every above 1 needs workers that keep their networks: drop --rebuild-network and --training-master stock")
                .check(o -> !o.bf16Parameters || o.trainingMaster.equals("sparkzoo") ? null
                        : "--bf16-parameters needs --training-master sparkzoo (stock dl4j-spark sends full parameters)")
                .check(o -> o.resume && o.overwrite ? "--resume and --overwrite contradict each other" : null);
    }

    private static String unknownModel(String name) {
        try {
            ModelRegistry.get(name);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    public static void main(String[] args) {
        JobMain.run("train-job", () -> {
            if (Arrays.asList(args).contains("--list-models")) {
                System.out.print(ModelCatalog.listModelsTable());
                return;
            }
            if (Arrays.asList(args).contains("--help")) {
                cli().parse(args, new TrainOptions(), System.out);
                return;
            }
            List<String> recipe = Recipes.args(value(args, "--model", new TrainOptions().model), value(args, "--recipe", ""),
                    SparkSessions.hadoopConfiguration());
            List<String> all = new ArrayList<>(recipe);
            all.addAll(Arrays.asList(args));
            TrainOptions options = cli().parse(all.toArray(new String[0]), new TrainOptions(), System.out);
            // the user's batch (own recipe included) is kept; the bundled recipe's may be lowered to fit the memory
            options.batchSizeGiven = Arrays.asList(args).contains("--batch-size-per-worker")
                    || (!value(args, "--recipe", "").isEmpty() && recipe.contains("--batch-size-per-worker"));
            MemoryCheck.checkContainers(new SparkConf()); // before YARN or Kubernetes is asked for containers
            NativeMemory.sizeFromMachine(); // before ND4J loads
            NativeKernels.enable();
            SparkSession spark = SparkSessions.create("sparkzoo train-job " + options.model);
            try {
                new Trainer(spark, options).run();
            } finally {
                spark.stop();
            }
        });
    }

    /** The value of an option before parsing (to pick the recipe); the default when absent. */
    static String value(String[] args, String name, String def) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return def;
    }
}
