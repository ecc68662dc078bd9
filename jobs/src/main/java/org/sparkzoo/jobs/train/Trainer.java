package org.sparkzoo.jobs.train;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.SerializableConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.RepartitionStrategy;
import org.deeplearning4j.spark.api.stats.SparkTrainingStats;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.stats.StatsUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkzoo.dataprep.Manifest;
import org.sparkzoo.dataprep.io.HadoopConf;
import org.sparkzoo.jobs.checkpoint.Checkpoints;
import org.sparkzoo.jobs.checkpoint.TrainState;
import org.sparkzoo.jobs.cli.UserError;
import org.sparkzoo.jobs.data.ShardSlice;
import org.sparkzoo.jobs.eval.EvalOptions;
import org.sparkzoo.jobs.eval.EvalResult;
import org.sparkzoo.jobs.eval.Evaluator;
import org.sparkzoo.models.ModelRegistry;
import org.sparkzoo.models.ModelSpec;
import org.sparkzoo.models.ModelStats;
import org.sparkzoo.models.training.LearningRates;
import org.sparkzoo.models.training.Losses;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * train-job's recipe, top to bottom: data, model (new or resumed), engine, then per epoch: train one epoch ->
 * checkpoint -> validate. Training itself is dl4j-spark's parameter averaging ({@link RoundTrainingMaster}): the
 * driver hands it one round's worth of {@link ShardSlice}s at a time (one partition per worker), so that the
 * learning rate, progress, checkpoints and resume all work at round granularity and every image is seen once per
 * epoch: a round is {@code workers x averagingFrequency} slices of one minibatch each, every worker fitting its share.
 */
public final class Trainer {
    private static final Logger log = LoggerFactory.getLogger(Trainer.class);

    private final SparkSession spark;
    private final TrainOptions o;
    private final Configuration hadoop;

    public Trainer(SparkSession spark, TrainOptions options) {
        this.spark = spark;
        this.hadoop = spark.sparkContext().hadoopConfiguration();
        this.o = options;
        o.data = HadoopConf.qualify(o.data, hadoop);
        o.output = HadoopConf.qualify(o.output, hadoop);
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
        // data: the train split's minibatch slices, dealt afresh every epoch, and the round plan
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        ModelSpec spec = ModelRegistry.get(o.model);
        int imageSize = o.imageSize > 0 ? o.imageSize : spec.defaultInputSize;
        Manifest manifest = Manifest.read(o.data, hadoop);
        Manifest.Split train = manifest.split("train");
        int workers = o.workers > 0 ? o.workers : sc.defaultParallelism();
        RunFolder run = new RunFolder(o.output, hadoop);
        Checkpoints checkpoints = new Checkpoints(o.output, hadoop);
        o.batchSizePerWorker = MemoryCheck.batchSize(spark, spec, o, imageSize, manifest.numClasses(), workers, checkpoints);
        int slicesPerRound = workers * o.averagingFrequency;
        int slicesPerEpoch = ShardSlice.cut(o.data, train, o.batchSizePerWorker).size();
        int roundsPerEpoch = (slicesPerEpoch + slicesPerRound - 1) / slicesPerRound;
        LrSchedule schedule = new LrSchedule(o, o.globalBatch(workers));

        // model: a new network, or the last checkpoint's with its updater state and position
        Checkpoints.Loaded start = o.resume && checkpoints.any()
                ? resume(checkpoints, manifest, imageSize, workers)
                : start(run, spec, manifest, imageSize, workers, schedule);
        TrainState state = start.state;
        ComputationGraph net = start.network;
        MemoryCheck.check(spark, spec, net, imageSize, o.channels, o.batchSizePerWorker, workers);
        run.startSegment(state);
        log.info("training {} ({} trainable parameters) on {} images of {} classes at {}x{}: {} workers x batch {} x averaging every {} = {} rounds per epoch, base lr {}",
                spec.name, String.format(Locale.ROOT, "%,d", ModelStats.trainableParams(net.getConfiguration())), train.count,
                manifest.numClasses(), imageSize, imageSize, workers, o.batchSizePerWorker, o.averagingFrequency, roundsPerEpoch,
                fmt(schedule.baseLr()));

        // engine: dl4j-spark's parameter averaging
        ParameterAveragingTrainingMaster master = trainingMaster(workers);
        SparkComputationGraph sparkNet = new SparkComputationGraph(sc, net, master);
        Epochs epochs = new Epochs(sc, sparkNet, master, run, checkpoints, state, train, schedule, workers, roundsPerEpoch,
                imageSize, manifest.numClasses(), net.getConfiguration().getNetworkOutputs().size());

        // the loop: train one epoch -> checkpoint -> validate
        Result result = new Result();
        result.runDir = run.uri();
        while (state.epoch < o.epochs && !roundLimitReached(state)) {
            int epoch = state.epoch;
            double meanLoss = epochs.trainOne(epoch);
            boolean complete = state.slice == 0 && state.epoch == epoch + 1;
            String ckpt = checkpoint(checkpoints, sparkNet.getNetwork(), state);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", "epoch");
            m.put("epoch", epoch + 1);
            m.put("mean_loss", meanLoss);
            m.put("lr", state.lr);
            m.put("checkpoint", ckpt);
            if (o.validateEvery > 0 && (!complete || (epoch + 1) % o.validateEvery == 0 || epoch + 1 == o.epochs)
                    && manifest.splits.containsKey("val")) {
                EvalResult v = validate(checkpoints, ckpt, sparkNet.getNetwork(), state, epoch);
                m.put("val_top1", v.ensemble().top1);
                m.put("val_top5", v.ensemble().top5);
                result.top1 = v.ensemble().top1;
                result.top5 = v.ensemble().top5;
            }
            System.out.printf(Locale.ROOT, "epoch %d/%d done: mean loss %.4f, checkpoint %s%n", epoch + 1, o.epochs, meanLoss, ckpt);
            run.metric(m);
            if (!complete) {
                break; // --max-rounds
            }
        }

        result.modelUri = Checkpoints.write(sparkNet.getNetwork(), state, new Path(o.output, "model.zip"), hadoop);
        result.lastLoss = state.lastLoss;
        result.rounds = state.globalRound;
        result.imagesPerSecond = epochs.imagesPerSecond();
        if (master instanceof RoundTrainingMaster) {
            run.workers(((RoundTrainingMaster) master).minibatchesPerExecutor());
        } else if (o.trainingStats) {
            run.workers(RoundTimes.minibatchesPerJvm(sparkNet.getSparkTrainingStats()));
        }
        if (o.trainingStats) {
            writeTrainingStats(sc, sparkNet.getSparkTrainingStats(), run);
        }
        run.summary(result, state, spec);
        run.curves();
        run.close();
        System.out.println("model: " + result.modelUri);
        System.out.println("run folder: " + result.runDir);
        return result;
    }

    /** The rounds of epochs, one after the other, and what the run has done so far. */
    private final class Epochs {
        private final JavaSparkContext sc;
        private final SparkComputationGraph sparkNet;
        private final ParameterAveragingTrainingMaster master;
        private final RunFolder run;
        private final Checkpoints checkpoints;
        private final TrainState state;
        private final Manifest.Split train;
        private final LrSchedule schedule;
        private final int workers;
        private final int roundsPerEpoch;
        private final int imageSize;
        private final int numClasses;
        private final int numOutputs;
        private final Broadcast<SerializableConfiguration> hadoopConf;
        private final RoundTimes roundTimes = new RoundTimes();
        private final long startNanos = System.nanoTime();
        private long images;
        private long rounds;

        Epochs(JavaSparkContext sc, SparkComputationGraph sparkNet, ParameterAveragingTrainingMaster master, RunFolder run,
               Checkpoints checkpoints, TrainState state, Manifest.Split train, LrSchedule schedule, int workers,
               int roundsPerEpoch, int imageSize, int numClasses, int numOutputs) {
            this.sc = sc;
            this.sparkNet = sparkNet;
            this.master = master;
            this.run = run;
            this.checkpoints = checkpoints;
            this.state = state;
            this.train = train;
            this.schedule = schedule;
            this.workers = workers;
            this.roundsPerEpoch = roundsPerEpoch;
            this.imageSize = imageSize;
            this.numClasses = numClasses;
            this.numOutputs = numOutputs;
            this.hadoopConf = sc.broadcast(new SerializableConfiguration(hadoop));
        }

        /**
         * Trains the rest of the epoch from the state's position in it, round by round, and returns the mean loss
         * of its rounds; the state moves on to the next epoch unless --max-rounds stopped it first.
         */
        double trainOne(int epoch) throws IOException {
            List<ShardSlice> order = ShardSlice.epoch(o.data, train, o.batchSizePerWorker, o.seed, epoch);
            ShardSliceLoader loader = new ShardSliceLoader(o.channels, imageSize, numClasses, numOutputs, o.augment, o.cropPadding,
                    o.labelSmoothing, o.seed, epoch, hadoopConf);
            int slicesPerRound = workers * o.averagingFrequency;
            double lossSum = 0;
            int epochRounds = 0;
            while (state.slice < order.size()) {
                if (roundLimitReached(state)) {
                    return lossSum / Math.max(1, epochRounds);
                }
                List<ShardSlice> round = order.subList(state.slice, Math.min(order.size(), state.slice + slicesPerRound));
                List<ShardSlice> next = order.subList(state.slice + round.size(),
                        Math.min(order.size(), state.slice + round.size() + slicesPerRound));
                double lr = schedule.at(epoch + (double) state.slice / order.size());
                RoundRecord r = fit(round, next, averagesUpdater(next.isEmpty()), lr, epoch, loader);
                state.slice += round.size();
                state.round++;
                state.globalRound++;
                state.lr = lr;
                state.lastLoss = r.loss;
                lossSum += r.loss;
                epochRounds++;
                System.out.println(r.line());
                run.metric(r.metrics());
                if (o.checkpointEveryRounds > 0 && state.round % o.checkpointEveryRounds == 0 && state.slice < order.size()) {
                    checkpoint(checkpoints, sparkNet.getNetwork(), state);
                }
            }
            state.epoch = epoch + 1;
            state.slice = 0;
            state.round = 0;
            return lossSum / Math.max(1, epochRounds);
        }

        /**
         * Whether the coming round averages the updater state: every --updater-averaging-every rounds, and always
         * before a checkpoint or the end of the run, so that what is saved is the averaged state.
         */
        private boolean averagesUpdater(boolean lastOfEpoch) {
            long after = state.globalRound + 1;
            return o.updaterAveragingEvery <= 1 || after % o.updaterAveragingEvery == 0 || lastOfEpoch
                    || (o.checkpointEveryRounds > 0 && (state.round + 1) % o.checkpointEveryRounds == 0)
                    || (o.maxRounds > 0 && after >= o.maxRounds);
        }

        /** One averaging round over these slices, in one partition per worker; {@code next} is the epoch's next round. */
        private RoundRecord fit(List<ShardSlice> round, List<ShardSlice> next, boolean averageUpdater, double lr, int epoch,
                                ShardSliceLoader loader) {
            int activeWorkers = Math.min(workers, round.size());
            LearningRates.set(sparkNet.getNetwork(), lr);
            long t0 = System.nanoTime();
            if (master instanceof RoundTrainingMaster) {
                ((RoundTrainingMaster) master).fitRound(sparkNet, perWorker(round, activeWorkers),
                        perWorker(next, Math.min(workers, next.size())), averageUpdater, loader);
            } else {
                sparkNet.fitPaths(sc.parallelize(round.stream().map(ShardSlice::path).collect(Collectors.toList()), activeWorkers), loader);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            double score = sparkNet.getScore();
            if (!Double.isFinite(score)) {
                throw new UserError(String.format(Locale.ROOT,
                        "loss became %s at epoch %d round %d with lr %s: lower --lr (or add --warmup-epochs); the last good checkpoint is kept in %s",
                        score, epoch + 1, state.round + 1, fmt(lr), new Path(o.output, Checkpoints.DIR)));
            }
            Map<String, Double> stages = stages(activeWorkers);
            RoundTrainingMaster.RoundWork work = master instanceof RoundTrainingMaster ? ((RoundTrainingMaster) master).lastRound() : null;
            // what the workers fitted, not what the driver planned
            long fitted = work != null ? work.examples : round.stream().mapToLong(s -> s.count).sum();
            images += fitted;
            rounds++;
            double penalty = Losses.penalty(sparkNet.getNetwork());
            double elapsed = (System.nanoTime() - startNanos) / 1e9;
            double roundsLeft = (double) (o.epochs - epoch - 1) * roundsPerEpoch + Math.max(0, roundsPerEpoch - state.round - 1);
            return new RoundRecord(epoch + 1, o.epochs, state.round + 1, roundsPerEpoch, state.globalRound + 1,
                    score - penalty, penalty, lr, fitted, seconds, activeWorkers, work, elapsed / rounds * roundsLeft, stages);
        }

        /** Each worker's slices: contiguous, even partitions, as Spark's parallelize cuts them. */
        private List<List<String>> perWorker(List<ShardSlice> slices, int parts) {
            List<List<String>> out = new ArrayList<>();
            for (int i = 0; i < parts; i++) {
                int from = (int) ((long) i * slices.size() / parts);
                int to = (int) ((long) (i + 1) * slices.size() / parts);
                out.add(slices.subList(from, to).stream().map(ShardSlice::path).collect(Collectors.toList()));
            }
            return out;
        }

        /** dl4j-spark's own breakdown of the round (--training-stats): master-side times as they are, worker-side ones per worker. */
        private Map<String, Double> stages(int activeWorkers) {
            Map<String, Double> out = new LinkedHashMap<>();
            if (o.trainingStats) {
                roundTimes.next(sparkNet.getSparkTrainingStats()).forEach((k, v) ->
                        out.put(k, RoundTimes.WORKER_SIDE.contains(k) ? v / activeWorkers : v));
            }
            return out;
        }

        double imagesPerSecond() {
            return images / Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
        }
    }

    private boolean roundLimitReached(TrainState state) {
        return o.maxRounds > 0 && state.globalRound >= o.maxRounds;
    }

    /** A new run: claims the output folder and builds the network from the model's configuration. */
    private Checkpoints.Loaded start(RunFolder run, ModelSpec spec, Manifest manifest, int imageSize, int workers,
                                     LrSchedule schedule) throws IOException {
        if (o.resume) {
            log.info("--resume: no checkpoint in {} yet, starting a new run", o.output);
        } else {
            run.claim(o.overwrite);
        }
        ComputationGraph net = spec.build(o.modelConfig(manifest.numClasses(), imageSize, schedule.at(0)));
        TrainState state = new TrainState();
        state.model = spec.name;
        state.imageSize = imageSize;
        state.channels = o.channels;
        state.numClasses = manifest.numClasses();
        state.classes = manifest.classes().stream().map(c -> c.wnid).collect(Collectors.toList());
        state.manifestId = manifest.id();
        state.seed = o.seed;
        state.workers = workers;
        state.options = Checkpoints.toMap(o);
        return new Checkpoints.Loaded(null, net, state);
    }

    /** The last checkpoint, if the run's options allow continuing it. */
    private Checkpoints.Loaded resume(Checkpoints checkpoints, Manifest manifest, int imageSize, int workers) throws IOException {
        String latest = checkpoints.latest().get();
        Checkpoints.Loaded loaded = Checkpoints.load(latest, hadoop, true);
        TrainState state = loaded.state;
        checkResumable(state, manifest, imageSize);
        if (state.slice == 0 && state.round > 0) {
            // a checkpoint from before slice positions were recorded: its rounds were all full
            state.slice = state.round * state.workers * Integer.parseInt(String.valueOf(state.options.get("averagingFrequency")));
        }
        state.workers = workers;
        log.info("resuming from {}: epoch {}, {} minibatches into it", latest, state.epoch, state.slice);
        return loaded;
    }

    /** Validation of the epoch's checkpoint; the best one so far is kept as best.zip. */
    private EvalResult validate(Checkpoints checkpoints, String ckpt, ComputationGraph net, TrainState state, int epoch) throws IOException {
        EvalResult v = Evaluator.evaluate(spark, List.of(ckpt), o.data, EvalOptions.forValidation(o.augment));
        checkpoints.keepIfBest(net, state, v.ensemble().top1);
        System.out.printf(Locale.ROOT, "epoch %d/%d validation top-1 %.4f top-5 %.4f (%d images)%n",
                epoch + 1, o.epochs, v.ensemble().top1, v.ensemble().top5, v.ensemble().count);
        return v;
    }

    /** dl4j-spark's parameter averaging as shipped (--training-master stock), or with sparkzoo's round. */
    private ParameterAveragingTrainingMaster trainingMaster(int workers) {
        ParameterAveragingTrainingMaster stock = new ParameterAveragingTrainingMaster.Builder(workers, o.batchSizePerWorker)
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
        return o.trainingMaster.equals("stock") ? stock : new RoundTrainingMaster(stock, o.reuseNetwork, o.bf16Parameters);
    }

    private String checkpoint(Checkpoints checkpoints, ComputationGraph net, TrainState state) throws IOException {
        String uri = checkpoints.save(net, state, Checkpoints.periodicName(state.epoch, state.round));
        checkpoints.prune(o.keepCheckpoints);
        return uri;
    }

    /** Refuses to continue a run with another model, another class index or a different round plan. */
    private void checkResumable(TrainState state, Manifest manifest, int imageSize) {
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
        // the round plan, and what the saved network configuration holds (a new value would be silently ignored)
        for (String key : List.of("batchSizePerWorker", "averagingFrequency", "optimizer", "seed", "momentum",
                "weightDecay", "weightDecayMode", "dropPath", "stochasticDepth", "classifierDropout", "widthMultiplier")) {
            Object now = Checkpoints.toMap(o).get(key);
            if (saved.containsKey(key) && !Objects.equals(String.valueOf(saved.get(key)), String.valueOf(now))) {
                problems.add(key + " " + saved.get(key) + " vs " + now);
            }
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
