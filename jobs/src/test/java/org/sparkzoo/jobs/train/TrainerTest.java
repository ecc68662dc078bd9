package org.sparkzoo.jobs.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkzoo.jobs.checkpoint.Checkpoints;
import org.sparkzoo.jobs.checkpoint.TrainState;
import org.sparkzoo.jobs.cli.UserError;
import org.sparkzoo.jobs.eval.FashionMnistRun;
import org.sparkzoo.models.training.ZooGraph;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** train-job's loop on real Fashion-MNIST shards, in a local[2] SparkSession (the cluster tests run it for real). */
class TrainerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static TrainOptions options(FashionMnistRun f, Path out) {
        TrainOptions o = new TrainOptions();
        o.model = "lenet5";
        o.data = f.data;
        o.output = out.toUri().toString();
        o.imageSize = 28;
        o.channels = 1;
        o.workers = 2;
        o.batchSizePerWorker = 32;
        o.averagingFrequency = 2;
        o.optimizer = "nesterov";
        o.lr = 0.05;
        o.lrReferenceBatch = 64;
        o.augment = "none";
        o.epochs = 1;
        o.validateEvery = 0;
        return o;
    }

    private static List<JsonNode> rounds(Path run) throws Exception {
        return metrics(run, "round");
    }

    private static List<JsonNode> metrics(Path run, String type) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (Map<String, Object> m : RunFolder.read(run.toUri().toString(), new Configuration())) {
            if (type.equals(m.get("type"))) {
                out.add(JSON.valueToTree(m));
            }
        }
        return out;
    }

    @Test
    void anEpochTrainsOnEveryImageOnceAndTheLossFalls() throws Exception {
        FashionMnistRun f = FashionMnistRun.get();
        Path run = Files.createTempDirectory("sparkzoo-train-epoch");
        new Trainer(f.spark, options(f, run)).run();
        List<JsonNode> rounds = rounds(run);
        assertEquals(f.manifest.split("train").count, rounds.stream().mapToLong(r -> r.get("images").asLong()).sum());
        double first = rounds.get(0).get("loss").asDouble();
        double last = rounds.get(rounds.size() - 1).get("loss").asDouble();
        assertTrue(last < 0.5 * first, "loss " + first + " -> " + last);
        assertTrue(Files.exists(run.resolve("model.zip")) && Files.exists(run.resolve("training-curve.png")));
    }

    @Test
    void anEpochsRoundsFindTheirDataLoadedAheadByThePreviousRound() throws Exception {
        FashionMnistRun f = FashionMnistRun.get();
        Path run = Files.createTempDirectory("sparkzoo-train-prefetch");
        TrainOptions o = options(f, run);
        o.maxRounds = 5;
        new Trainer(f.spark, o).run();
        List<JsonNode> rounds = rounds(run);
        assertEquals(0, rounds.get(0).get("slices_prefetched").asLong(), "the first round of a run has nothing ahead");
        for (JsonNode r : rounds.subList(1, rounds.size())) {
            long slices = r.get("images").asLong() / o.batchSizePerWorker;
            assertEquals(slices, r.get("slices_prefetched").asLong(), "round " + r.get("round") + ": every slice was loaded ahead");
        }
    }

    /** Trains 4 rounds with each of two option sets and returns the relative differences of parameters and updater state. */
    private static double[] finalStateDifference(TrainOptions base, java.util.function.Consumer<TrainOptions> a,
                                                 java.util.function.Consumer<TrainOptions> b) throws Exception {
        FashionMnistRun f = FashionMnistRun.get();
        INDArray[][] states = new INDArray[2][];
        for (int i = 0; i < 2; i++) {
            Path run = Files.createTempDirectory("sparkzoo-train-pair");
            TrainOptions o = copy(base, run);
            o.classifierDropout = base.classifierDropout;
            o.maxRounds = 4;
            (i == 0 ? a : b).accept(o);
            new Trainer(f.spark, o).run();
            states[i] = finalState(f, run);
        }
        return new double[]{relative(states[0][0], states[1][0]), relative(states[0][1], states[1][1])};
    }

    private static void assertSameTraining(String what, double[] difference) {
        System.out.printf("%s: parameters %.1e, updater state %.1e relative%n", what, difference[0], difference[1]);
        // the same computation on the same data in the same order: only the kernels' own nondeterminism remains
        assertTrue(difference[0] < 1e-6, what + ": parameters differ by " + difference[0]);
        assertTrue(difference[1] < 1e-6, what + ": updater state differs by " + difference[1]);
    }

    @Test
    void sparkzoosRoundTrainsExactlyLikeStockDl4jSpark() throws Exception {
        // stock dl4j-spark rebuilds its workers' networks, restarting their iteration counts: optimizers whose step
        // does not depend on the count (SGD with momentum, Nesterov) must match it exactly
        TrainOptions sgd = mobilenetWithSgd();
        sgd.classifierDropout = 0; // stock workers draw dropout masks from a shared stream
        assertSameTraining("mobilenet_v2 x0.25 (batch norm), SGD momentum: sparkzoo vs stock",
                onDl4jKernels(() -> finalStateDifference(sgd, o -> { }, o -> o.trainingMaster = "stock")));
        TrainOptions nesterov = options(FashionMnistRun.get(), Files.createTempDirectory("unused"));
        assertSameTraining("lenet5, Nesterov: sparkzoo vs stock",
                onDl4jKernels(() -> finalStateDifference(nesterov, o -> { }, o -> o.trainingMaster = "stock")));
    }

    /**
     * Stock workers build plain ComputationGraphs, with DL4J's oneDNN helpers; sparkzoo's workers build ZooGraphs with
     * sparkzoo's kernels (batch norm, the input convolution's weight gradient). Those agree with DL4J's to float
     * rounding in one step (OneDnnHelpersTest), but training amplifies rounding: DL4J's own helpers on and off part
     * by 0.4 of the parameters' norm in 12 steps of mobilenet_v2 at lr 0.05. So the rounds are compared on equal kernels.
     */
    private static double[] onDl4jKernels(java.util.concurrent.Callable<double[]> run) throws Exception {
        String kernels = System.getProperty(ZooGraph.KERNELS_PROPERTY);
        System.setProperty(ZooGraph.KERNELS_PROPERTY, "dl4j");
        try {
            return run.call();
        } finally {
            if (kernels == null) {
                System.clearProperty(ZooGraph.KERNELS_PROPERTY);
            } else {
                System.setProperty(ZooGraph.KERNELS_PROPERTY, kernels);
            }
        }
    }

    @Test
    void keepingNetworksAliveBetweenRoundsTrainsExactlyLikeRebuildingThem() throws Exception {
        // Adam's bias correction counts iterations: a kept network must continue the count as a rebuilt one does
        TrainOptions adam = options(FashionMnistRun.get(), Files.createTempDirectory("unused"));
        adam.optimizer = "adam";
        adam.lr = 0.01;
        assertSameTraining("lenet5, Adam: kept vs rebuilt networks", finalStateDifference(adam, o -> { }, o -> o.reuseNetwork = false));
    }

    @Test
    void updaterStateAveragedEveryKRoundsIsAveragedBeforeTheRunEnds() throws Exception {
        FashionMnistRun f = FashionMnistRun.get();
        TrainOptions base = options(f, Files.createTempDirectory("unused"));
        double[] difference = finalStateDifference(base, o -> { }, o -> o.updaterAveragingEvery = 100);
        System.out.printf("updater averaged every round vs only in the last of 4: parameters %.1e, updater state %.1e%n",
                difference[0], difference[1]);
        // workers with their own momentum for 3 rounds train differently, but not far off
        assertTrue(difference[0] > 1e-5 && difference[0] < 0.05, "parameters differ by " + difference[0]);
        Path run = Files.createTempDirectory("sparkzoo-train-updater-every");
        TrainOptions o = copy(base, run);
        o.maxRounds = 4;
        o.updaterAveragingEvery = 100;
        new Trainer(f.spark, o).run();
        List<JsonNode> rounds = rounds(run);
        for (int i = 0; i < 4; i++) {
            assertEquals(i == 3, rounds.get(i).get("updater_averaged").asBoolean(), "round " + (i + 1) + " averages the updater state");
        }
        INDArray momentum = finalState(f, run)[1];
        assertTrue(momentum.norm2Number().doubleValue() > 0, "the saved updater state is the workers' average, not the driver's zeros");
    }

    /** The result size of every task that ends, by the phase set when it ended. */
    private static final class ResultSizes extends SparkListener {
        final Map<String, List<Long>> byPhase = new ConcurrentHashMap<>();
        volatile String phase = "";

        @Override
        public void onTaskEnd(SparkListenerTaskEnd end) {
            if (end.taskMetrics() != null) {
                byPhase.computeIfAbsent(phase, k -> new CopyOnWriteArrayList<>()).add(end.taskMetrics().resultSize());
            }
        }

        void enter(FashionMnistRun f, String next) {
            try {
                f.spark.sparkContext().listenerBus().waitUntilEmpty(60_000); // the last phase's events count in it
            } catch (java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException("Spark's listener bus did not drain in 60 s", e);
            }
            phase = next;
        }

        /** The smallest result of a round's task in the phase (other jobs' tasks return a few bytes). */
        long smallestRoundResult(String phase) {
            return byPhase.get(phase).stream().filter(b -> b > 50_000).min(Long::compare).orElseThrow();
        }
    }

    @Test
    void bfloat16ParametersShrinkWhatWorkersSendAndTrainWithinTheirRounding() throws Exception {
        FashionMnistRun f = FashionMnistRun.get();
        TrainOptions base = options(f, Files.createTempDirectory("unused"));
        ResultSizes sizes = new ResultSizes();
        f.spark.sparkContext().addSparkListener(sizes);
        double[] difference;
        try {
            difference = finalStateDifference(base, o -> sizes.enter(f, "fp32"), o -> {
                sizes.enter(f, "bf16");
                o.bf16Parameters = true;
            });
            sizes.enter(f, "");
        } finally {
            f.spark.sparkContext().removeSparkListener(sizes);
        }
        long fp32 = sizes.smallestRoundResult("fp32");
        long bf16 = sizes.smallestRoundResult("bf16");
        System.out.printf("bfloat16 vs float32 parameters: parameters %.1e, updater state %.1e relative; "
                + "a worker's result %d -> %d bytes%n", difference[0], difference[1], fp32, bf16);
        // a result is the parameters and Nesterov's state, as many floats again (8 bytes per parameter); with bfloat16
        // both take 2 bytes each: 4 of 8
        double ratio = (double) bf16 / fp32;
        assertTrue(ratio > 0.45 && ratio < 0.55, "a worker's result should shrink to 1/2: " + fp32 + " -> " + bf16 + " bytes");
        assertWithinBfloat16Rounding("updater state averaged every round", difference);
        // the updater state averaged every 2nd round: a worker's state change is measured from the last state the
        // driver sent, across a round in which none was sent
        assertWithinBfloat16Rounding("updater state averaged every 2nd round", finalStateDifference(base,
                o -> o.updaterAveragingEvery = 2, o -> {
                    o.updaterAveragingEvery = 2;
                    o.bf16Parameters = true;
                }));
    }

    /**
     * bfloat16 keeps 8 significant bits: each round starts from the parameters and updater state rounded by up to
     * 2^-9 (0.2%) and returns their changes rounded as much, so 4 rounds of lr 0.05 end a few percent apart (3.5e-2
     * measured for the parameters); the momentum follows gradients taken at those parameters (1.0e-1 measured, as
     * much with the state sent in float32); were the changes not applied, or applied as the values themselves, or
     * measured from the wrong start, the difference would be 0 or of the order of the values (1).
     */
    private static void assertWithinBfloat16Rounding(String what, double[] difference) {
        System.out.printf("bfloat16 vs float32, %s: parameters %.1e, updater state %.1e relative%n", what, difference[0], difference[1]);
        assertTrue(difference[0] > 1e-6 && difference[0] < 0.1, what + ": parameters differ by " + difference[0]);
        assertTrue(difference[1] > 1e-6 && difference[1] < 0.3, what + ": updater state differs by " + difference[1]);
    }

    /** Parameters and updater state of a run's final model. */
    private static INDArray[] finalState(FashionMnistRun f, Path run) {
        ComputationGraph net = Checkpoints.load(run.resolve("model.zip").toString(), f.hadoop, true).network;
        return new INDArray[]{net.params().dup(), net.getUpdater().getStateViewArray().dup()};
    }

    private static void assertResumeIsExact(String what, TrainOptions base) throws Exception {
        FashionMnistRun f = FashionMnistRun.get();
        Path straight = Files.createTempDirectory("sparkzoo-straight");
        TrainOptions o = copy(base, straight);
        o.maxRounds = 4;
        new Trainer(f.spark, o).run();

        Path halves = Files.createTempDirectory("sparkzoo-halves");
        TrainOptions first = copy(base, halves);
        first.maxRounds = 2;
        new Trainer(f.spark, first).run();
        TrainOptions rest = copy(base, halves);
        rest.maxRounds = 4;
        rest.resume = true;
        new Trainer(f.spark, rest).run();

        INDArray[] a = finalState(f, straight);
        INDArray[] b = finalState(f, halves);
        assertSameTraining("resume, " + what + ": 2 + resume + 2 rounds vs 4 straight",
                new double[]{relative(b[0], a[0]), relative(b[1], a[1])});
        List<JsonNode> r1 = rounds(straight);
        List<JsonNode> r2 = rounds(halves);
        assertEquals(4, r2.size(), "rounds after a resume appear once in metrics.jsonl");
        for (int i = 0; i < 4; i++) {
            assertEquals(r1.get(i).get("lr").asDouble(), r2.get(i).get("lr").asDouble(), 0, what + ": learning rate of round " + (i + 1));
            assertEquals(r1.get(i).get("loss").asDouble(), r2.get(i).get("loss").asDouble(), 1e-5, what + ": loss of round " + (i + 1));
        }
    }

    private static double relative(INDArray a, INDArray b) {
        return a.sub(b).norm2Number().doubleValue() / b.norm2Number().doubleValue();
    }

    private static TrainOptions copy(TrainOptions base, Path out) throws java.io.IOException {
        TrainOptions o = options(FashionMnistRun.get(), out);
        o.model = base.model;
        o.optimizer = base.optimizer;
        o.lr = base.lr;
        o.widthMultiplier = base.widthMultiplier;
        o.dropPath = base.dropPath;
        o.imageSize = base.imageSize;
        o.channels = base.channels;
        o.batchSizePerWorker = base.batchSizePerWorker;
        o.lrSchedule = "cosine";
        o.epochs = 2;
        return o;
    }

    /** A small network with batch norm, trained with torch-style SGD momentum. */
    private static TrainOptions mobilenetWithSgd() throws java.io.IOException {
        TrainOptions o = options(FashionMnistRun.get(), Files.createTempDirectory("unused"));
        o.model = "mobilenet_v2";
        o.widthMultiplier = 0.25;
        o.optimizer = "sgd";
        o.channels = 1;
        o.batchSizePerWorker = 16;
        return o;
    }

    @Test
    void resumeIsExactWithSgdMomentumAndBatchNorm() throws Exception {
        assertResumeIsExact("mobilenet_v2 x0.25, SGD momentum", mobilenetWithSgd());
    }

    @Test
    void aMidEpochResumeWithOtherWorkersTrainsTheRestOfTheEpochOnce() throws Exception {
        FashionMnistRun f = FashionMnistRun.get();
        Path run = Files.createTempDirectory("sparkzoo-resume-workers");
        TrainOptions first = options(f, run);
        first.maxRounds = 3;
        new Trainer(f.spark, first).run();
        TrainOptions rest = options(f, run);
        rest.workers = 1; // 2 minibatches per round instead of 4
        rest.resume = true;
        new Trainer(f.spark, rest).run();
        List<JsonNode> rounds = rounds(run);
        long epochImages = rounds.stream().filter(r -> r.get("epoch").asInt() == 1).mapToLong(r -> r.get("images").asLong()).sum();
        assertEquals(f.manifest.split("train").count, epochImages, "the epoch's images once, across the two worker counts");
        assertEquals(3, rounds.stream().filter(r -> r.get("global_round").asLong() <= 3).count());
    }

    @Test
    void resumeIsExactWithAdam() throws Exception {
        TrainOptions o = options(FashionMnistRun.get(), Files.createTempDirectory("unused"));
        o.optimizer = "adam";
        o.lr = 0.01;
        assertResumeIsExact("lenet5, Adam", o);
    }

    @Test
    void resumeIsExactWithDropPath() throws Exception {
        TrainOptions o = options(FashionMnistRun.get(), Files.createTempDirectory("unused"));
        o.model = "nasnet_mobile";
        o.dropPath = 0.3;
        o.imageSize = 32;
        o.batchSizePerWorker = 8;
        assertResumeIsExact("nasnet_mobile with drop-path 0.3", o);
    }

    @Test
    void aRunIsNotOverwrittenAndResumeRefusesAnotherModel() throws Exception {
        FashionMnistRun f = FashionMnistRun.get();
        Path run = Files.createTempDirectory("sparkzoo-train-resume");
        TrainOptions o = options(f, run);
        o.maxRounds = 2;
        new Trainer(f.spark, o).run();
        UserError exists = assertThrows(UserError.class, () -> new Trainer(f.spark, options(f, run)).run());
        assertTrue(exists.getMessage().contains("--resume") && exists.getMessage().contains("--overwrite"), exists.getMessage());
        TrainOptions other = options(f, run);
        other.model = "resnet18";
        other.resume = true;
        UserError refused = assertThrows(UserError.class, () -> new Trainer(f.spark, other).run());
        assertTrue(refused.getMessage().contains("model lenet5 vs --model resnet18"), refused.getMessage());
    }

    @Test
    void aResumedRunAppendsItsMetricsAndDropsTheRoundsItRedoes() throws Exception {
        FashionMnistRun f = FashionMnistRun.get();
        Path run = Files.createTempDirectory("sparkzoo-train-metrics");
        TrainOptions o = options(f, run);
        o.maxRounds = 3;
        o.checkpointEveryRounds = 2;
        new Trainer(f.spark, o).run();
        // a kill after round 3 but before its checkpoint: only the one after round 2 is left
        Path last = run.resolve("checkpoints").resolve(Checkpoints.periodicName(0, 3));
        assertTrue(Files.deleteIfExists(last), "the stop wrote " + last);
        Path firstPart = run.resolve("metrics").resolve("part-00000.jsonl");
        byte[] before = Files.readAllBytes(firstPart);

        TrainOptions resumed = options(f, run);
        resumed.model = "LeNet5"; // model names are case-insensitive, on --resume too
        resumed.resume = true;
        resumed.maxRounds = 5;
        new Trainer(f.spark, resumed).run();

        List<Long> globalRounds = new ArrayList<>();
        for (JsonNode r : rounds(run)) {
            globalRounds.add(r.get("global_round").asLong());
        }
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), globalRounds, "every round once, the redone round 3 from the resumed segment");
        assertEquals(1, metrics(run, "epoch").size(), "the first segment's partial epoch row is redone too");
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(firstPart)), "the first segment's part is never rewritten");
        assertTrue(Files.exists(run.resolve("metrics").resolve("part-00001.jsonl")));
        assertTrue(Files.readString(firstPart).contains("\"global_round\":3,"), "the raw part keeps what was written");
    }

    @Test
    void aResumeDoesNotReplaceBestZipWithAWorseModel() throws Exception {
        FashionMnistRun f = FashionMnistRun.get();
        Path run = Files.createTempDirectory("sparkzoo-train-best");
        TrainOptions o = options(f, run);
        o.validateEvery = 1;
        new Trainer(f.spark, o).run();
        Path best = run.resolve("checkpoints").resolve(Checkpoints.BEST);
        TrainState first = Checkpoints.readState(best.toString(), f.hadoop);
        assertTrue(first.bestTop1 >= 0, "validated: " + first.bestTop1);
        // the epoch's checkpoint is written before its validation: it does not know best.zip's top-1
        assertTrue(Checkpoints.readState(new Checkpoints(run.toUri().toString(), f.hadoop).latest().get(), f.hadoop).bestTop1 < first.bestTop1);
        // make best.zip claim a top-1 the next epoch cannot reach
        Checkpoints.Loaded b = Checkpoints.load(best.toString(), f.hadoop, true);
        b.state.bestTop1 = 0.999;
        Checkpoints.write(b.network, b.state, new org.apache.hadoop.fs.Path(best.toUri()), f.hadoop);

        TrainOptions resumed = options(f, run);
        resumed.validateEvery = 1;
        resumed.epochs = 2;
        resumed.resume = true;
        Trainer.Result r = new Trainer(f.spark, resumed).run();
        assertTrue(r.top1 < 0.999, "epoch 2 validated at " + r.top1);
        assertEquals(0.999, Checkpoints.readState(best.toString(), f.hadoop).bestTop1, 0.0, "best.zip kept");
        assertEquals(0.999, Checkpoints.readState(run.resolve("model.zip").toString(), f.hadoop).bestTop1, 0.0,
                "the best top-1 travels in the state");
    }
}
