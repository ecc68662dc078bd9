package org.sparkzoo.jobs.train;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.RepartitionStrategy;
import org.deeplearning4j.spark.api.stats.SparkTrainingStats;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.stats.StatsUtils;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkzoo.dataprep.Manifest;
import org.sparkzoo.jobs.JobMain.UserError;
import org.sparkzoo.jobs.eval.EvalOptions;
import org.sparkzoo.jobs.eval.EvalResult;
import org.sparkzoo.jobs.eval.Evaluator;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelRegistry;
import org.sparkzoo.models.ModelSpec;
import org.sparkzoo.models.ModelStats;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * train-job's recipe, top to bottom: data, model, optimizer, schedule, the loop of averaging rounds, checkpoints,
 * validation. Training itself is dl4j-spark's {@link ParameterAveragingTrainingMaster}: the driver hands it one
 * round's worth of {@link ShardSlice}s at a time (one per worker), so that the learning rate, progress,
 * checkpoints and resume all work at round granularity and every image is seen once per epoch: a round is
 * {@code workers x averagingFrequency} slices of one minibatch each, every worker fitting its share.
 */
public final class Trainer {
    private static final Logger log = LoggerFactory.getLogger(Trainer.class);

    private final SparkSession spark;
    private final TrainOptions o;
    private final Configuration hadoop;

    public Trainer(SparkSession spark, TrainOptions options) {
        this.spark = spark;
        this.o = options;
        this.hadoop = spark.sparkContext().hadoopConfiguration();
    }

    /** Result of a run: where the final model is, and the last metrics. */
    public static final class Result {
        public String modelUri;
        public String runDir;
        public double lastLoss;
        public double top1 = Double.NaN;
        public double top5 = Double.NaN;
        public long rounds;
        public double imagesPerSecond;
    }

    public Result run() throws IOException {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        ModelSpec spec = ModelRegistry.get(o.model);
        int imageSize = o.imageSize > 0 ? o.imageSize : spec.defaultInputSize;
        Manifest manifest = Manifest.read(o.data, hadoop);
        Manifest.Split train = manifest.split("train");
        int numClasses = manifest.numClasses();
        int workers = o.workers > 0 ? o.workers : sc.defaultParallelism();
        o.batchSizePerWorker = MemoryCheck.batchSize(spark, spec, o, imageSize, numClasses, workers, new Checkpoints(o.output, hadoop));
        // one slice = one minibatch: dl4j-spark M2's IteratorMultiDataSetIterator loses examples when it has to
        // split a loaded MultiDataSet larger than two minibatches, but merges smaller ones correctly
        int sliceRows = o.batchSizePerWorker;
        int slicesPerRound = workers * o.averagingFrequency;
        List<ShardSlice> slices = ShardSlice.cut(o.data, train, sliceRows);
        int roundsPerEpoch = (slices.size() + slicesPerRound - 1) / slicesPerRound;
        LrSchedule schedule = new LrSchedule(o, o.globalBatch(workers));
        RunFolder run = new RunFolder(o.output, hadoop);
        Checkpoints checkpoints = new Checkpoints(o.output, hadoop);

        TrainState state;
        ComputationGraph net;
        if (o.resume && !checkpoints.any()) {
            log.info("--resume: no checkpoint in {} yet, starting a new run", o.output);
        }
        if (o.resume && checkpoints.any()) {
            String latest = checkpoints.latest().get();
            Checkpoints.Loaded loaded = Checkpoints.load(latest, hadoop, true);
            state = loaded.state;
            checkResumable(state, manifest, imageSize, workers);
            net = loaded.network;
            log.info("resuming from {}: epoch {} round {} of {}", latest, state.epoch, state.round, roundsPerEpoch);
        } else {
            if (!o.resume) {
                run.claim(o.overwrite);
            }
            ModelConfig config = ModelConfig.of(numClasses, o.channels, imageSize, imageSize)
                    .withSeed(o.seed)
                    .withUpdater(updater(schedule.at(0)))
                    .withWeightDecay(o.weightDecay)
                    .withStochasticDepth(o.stochasticDepth)
                    .withDropPath(o.dropPath);
            net = spec.build(config);
            state = new TrainState();
            state.model = spec.name;
            state.imageSize = imageSize;
            state.channels = o.channels;
            state.numClasses = numClasses;
            state.classes = manifest.classes().stream().map(c -> c.wnid).collect(Collectors.toList());
            state.manifestId = manifest.id();
            state.seed = o.seed;
            state.workers = workers;
            state.options = Checkpoints.toMap(o);
        }
        MemoryCheck.check(spark, spec, net, imageSize, o.channels, o.batchSizePerWorker, workers);
        run.startSegment(state);
        log.info("training {} ({} trainable parameters) on {} images of {} classes at {}x{}: {} workers x batch {} x averaging every {} = {} rounds per epoch, base lr {}",
                spec.name, String.format(Locale.ROOT, "%,d", ModelStats.trainableParams(net.getConfiguration())), train.count, numClasses, imageSize, imageSize,
                workers, o.batchSizePerWorker, o.averagingFrequency, roundsPerEpoch, fmt(schedule.baseLr()));

        ParameterAveragingTrainingMaster built = new ParameterAveragingTrainingMaster.Builder(workers, sliceRows)
                .batchSizePerWorker(o.batchSizePerWorker)
                .averagingFrequency(o.averagingFrequency)
                // 0 by default: an exception in dl4j-spark's prefetch thread kills the executor JVM (exit 50) instead of
                // failing the task with the loader's message
                .workerPrefetchNumBatches(o.prefetchBatches)
                .saveUpdater(true)
                .repartionData(Repartition.NumPartitionsWorkersDiffers)
                .repartitionStrategy(RepartitionStrategy.Balanced)
                .rngSeed(o.seed)
                .collectTrainingStats(o.trainingStats)
                .build();
        ParameterAveragingTrainingMaster tm = o.reuseNetwork ? new ReusingTrainingMaster(built) : built;
        SparkComputationGraph sparkNet = new SparkComputationGraph(sc, net, tm);
        int numOutputs = net.getConfiguration().getNetworkOutputs().size();

        Result result = new Result();
        result.runDir = run.uri();
        long startNanos = System.nanoTime();
        long imagesThisRun = 0;
        RoundTimes roundTimes = new RoundTimes();
        long roundsThisRun = 0;
        boolean stop = false;
        for (int epoch = state.epoch; epoch < o.epochs && !stop; epoch++) {
            List<ShardSlice> order = ShardSlice.epochOrder(slices, o.seed, epoch);
            ShardSliceLoader loader = new ShardSliceLoader(o.channels, imageSize, numClasses, numOutputs, o.augment,
                    o.labelSmoothing, o.seed, epoch);
            int firstRound = epoch == state.epoch ? state.round : 0;
            double epochLossSum = 0;
            int epochRounds = 0;
            for (int round = firstRound; round < roundsPerEpoch; round++) {
                List<ShardSlice> mine = order.subList(round * slicesPerRound, Math.min(order.size(), (round + 1) * slicesPerRound));
                int images = mine.stream().mapToInt(s -> s.count).sum();
                double lr = schedule.at(epoch + (double) round / roundsPerEpoch);
                sparkNet.getNetwork().setLearningRate(lr);
                // contiguous, even partitions: each worker gets at most averagingFrequency slices
                JavaRDD<String> paths = sc.parallelize(mine.stream().map(ShardSlice::path).collect(Collectors.toList()),
                        Math.min(workers, mine.size()));
                long t0 = System.nanoTime();
                sparkNet.fitPaths(paths, loader);
                double seconds = (System.nanoTime() - t0) / 1e9;
                double loss = sparkNet.getScore();
                if (!Double.isFinite(loss)) {
                    throw new UserError(String.format(Locale.ROOT,
                            "loss became %s at epoch %d round %d with lr %s: lower --lr (or add --warmup-epochs); the last good checkpoint is kept in %s",
                            loss, epoch + 1, round + 1, fmt(lr), new Path(o.output, Checkpoints.DIR)));
                }
                int activeWorkers = Math.max(1, Math.min(workers, mine.size()));
                Map<String, Double> times = o.trainingStats ? roundTimes.next(sparkNet.getSparkTrainingStats()) : Map.of();
                double fitSeconds = times.getOrDefault("fit", 0.0) / activeWorkers;
                imagesThisRun += images;
                roundsThisRun++;
                epochLossSum += loss;
                epochRounds++;
                state.round = round + 1;
                state.globalRound++;
                state.lr = lr;
                state.lastLoss = loss;
                double elapsed = (System.nanoTime() - startNanos) / 1e9;
                double roundsLeft = (double) (o.epochs - epoch - 1) * roundsPerEpoch + (roundsPerEpoch - round - 1);
                double overhead = o.trainingStats ? Math.max(0, 1 - fitSeconds / seconds) : Double.NaN;
                System.out.printf(Locale.ROOT, "epoch %d/%d round %d/%d loss %.4f lr %s %.0f img/s averaging+overhead %s eta %s%n",
                        epoch + 1, o.epochs, round + 1, roundsPerEpoch, loss, fmt(lr), images / seconds,
                        Double.isNaN(overhead) ? "n/a" : String.format(Locale.ROOT, "%.0f%%", 100 * overhead),
                        duration(elapsed / roundsThisRun * roundsLeft));
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("type", "round");
                m.put("epoch", epoch + 1);
                m.put("round", round + 1);
                m.put("global_round", state.globalRound);
                m.put("loss", loss);
                m.put("lr", lr);
                m.put("images", images);
                m.put("seconds", seconds);
                m.put("images_per_second", images / seconds);
                m.put("overhead_share", overhead);
                for (Map.Entry<String, Double> t : times.entrySet()) {
                    // master-side times as they are; worker-side ones per worker
                    boolean worker = t.getKey().equals("model_rebuild") || t.getKey().equals("data_load") || t.getKey().equals("fit");
                    m.put("seconds_" + t.getKey(), worker ? t.getValue() / activeWorkers : t.getValue());
                }
                run.metric(m);
                if (o.checkpointEveryRounds > 0 && state.round % o.checkpointEveryRounds == 0 && state.round < roundsPerEpoch) {
                    checkpoint(checkpoints, sparkNet.getNetwork(), state, epoch, state.round);
                }
                if (o.maxRounds > 0 && state.globalRound >= o.maxRounds) {
                    stop = true;
                    break;
                }
            }
            if (!stop) {
                state.epoch = epoch + 1;
                state.round = 0;
            }
            String ckpt = checkpoint(checkpoints, sparkNet.getNetwork(), state, state.epoch, state.round);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", "epoch");
            m.put("epoch", epoch + 1);
            m.put("mean_loss", epochLossSum / Math.max(1, epochRounds));
            m.put("lr", state.lr);
            m.put("checkpoint", ckpt);
            if (o.validateEvery > 0 && (stop || (epoch + 1) % o.validateEvery == 0 || epoch + 1 == o.epochs)
                    && manifest.splits.containsKey("val")) {
                EvalResult v = Evaluator.evaluate(spark, List.of(ckpt), o.data, EvalOptions.forValidation(o.augment));
                m.put("val_top1", v.ensemble().top1);
                m.put("val_top5", v.ensemble().top5);
                result.top1 = v.ensemble().top1;
                result.top5 = v.ensemble().top5;
                checkpoints.keepIfBest(sparkNet.getNetwork(), state, v.ensemble().top1);
                System.out.printf(Locale.ROOT, "epoch %d/%d validation top-1 %.4f top-5 %.4f (%d images)%n",
                        epoch + 1, o.epochs, v.ensemble().top1, v.ensemble().top5, v.ensemble().count);
            }
            System.out.printf(Locale.ROOT, "epoch %d/%d done: mean loss %.4f, checkpoint %s%n", epoch + 1, o.epochs,
                    epochLossSum / Math.max(1, epochRounds), ckpt);
            run.metric(m);
        }

        double seconds = (System.nanoTime() - startNanos) / 1e9;
        result.modelUri = Checkpoints.write(sparkNet.getNetwork(), state, new Path(o.output, "model.zip"), hadoop);
        result.lastLoss = state.lastLoss;
        result.rounds = state.globalRound;
        result.imagesPerSecond = imagesThisRun / Math.max(1e-9, seconds);
        if (o.trainingStats && sparkNet.getSparkTrainingStats() != null) {
            writeTrainingStats(sc, sparkNet.getSparkTrainingStats(), run);
        }
        run.summary(result, state, spec);
        run.curves();
        run.close();
        System.out.println("model: " + result.modelUri);
        System.out.println("run folder: " + result.runDir);
        return result;
    }

    private String checkpoint(Checkpoints checkpoints, ComputationGraph net, TrainState state, int epoch, int round) throws IOException {
        String uri = checkpoints.save(net, state, Checkpoints.periodicName(epoch, round));
        checkpoints.prune(o.keepCheckpoints);
        return uri;
    }

    private IUpdater updater(double lr) {
        switch (o.optimizer) {
            case "sgd":
                return new Sgd(lr);
            case "nesterov":
                return new Nesterovs(lr, o.momentum);
            case "adam":
                return new Adam(lr);
            default:
                throw new IllegalArgumentException("unknown --optimizer '" + o.optimizer + "' (sgd, nesterov, adam)");
        }
    }

    /** Refuses to continue a run with another model, another class index or a different round plan. */
    private void checkResumable(TrainState state, Manifest manifest, int imageSize, int workers) {
        List<String> problems = new ArrayList<>();
        if (!state.model.equalsIgnoreCase(o.model)) {
            problems.add("model " + state.model + " vs --model " + o.model);
        }
        List<String> classes = manifest.classes().stream().map(c -> c.wnid).collect(Collectors.toList());
        if (!state.classes.equals(classes)) {
            problems.add("its " + state.classes.size() + " classes differ from the " + classes.size() + " of " + o.data);
        }
        if (state.imageSize != imageSize) {
            problems.add("image size " + state.imageSize + " vs --image-size " + imageSize);
        }
        if (state.channels != o.channels) {
            problems.add("channels " + state.channels + " vs --channels " + o.channels);
        }
        Map<String, Object> saved = state.options;
        for (String key : List.of("batchSizePerWorker", "averagingFrequency", "optimizer", "seed")) {
            Object now = Checkpoints.toMap(o).get(key);
            if (saved.containsKey(key) && !Objects.equals(String.valueOf(saved.get(key)), String.valueOf(now))) {
                problems.add(key + " " + saved.get(key) + " vs " + now);
            }
        }
        if (state.round > 0 && state.workers != workers) {
            problems.add("it stopped inside an epoch with " + state.workers + " workers, now " + workers);
        }
        if (!Objects.equals(state.manifestId, manifest.id())) {
            log.warn("the dataset's manifest changed since the checkpoint ({} vs {}); the class index matches, continuing",
                    state.manifestId, manifest.id());
        }
        if (!problems.isEmpty()) {
            throw new UserError("cannot --resume the run in " + o.output + ": " + String.join("; ", problems)
                    + ". Use the original options, or a new --output to start a new run.");
        }
    }

    private void writeTrainingStats(JavaSparkContext sc, SparkTrainingStats stats, RunFolder run) {
        try {
            String html = new Path(run.uri(), "training-stats.html").toString();
            StatsUtils.exportStatsAsHtml(stats, html, sc);
            run.workers(RoundTimes.events(stats, RoundTimes.KEYS.get("fit")));
        } catch (Exception e) {
            log.warn("could not write dl4j-spark's training stats: {}", e.toString());
        }
    }

    static String fmt(double lr) {
        return String.format(Locale.ROOT, "%.4g", lr);
    }

    static String duration(double seconds) {
        if (!Double.isFinite(seconds)) {
            return "?";
        }
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, (s % 3600) / 60)
                : s >= 60 ? String.format("%dm%02ds", s / 60, s % 60) : s + "s";
    }

}
