package org.sparkzoo.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.sparkzoo.jobs.JobCommands.deleteRecursively;
import static org.sparkzoo.jobs.JobCommands.freePort;
import static org.sparkzoo.jobs.JobCommands.metrics;
import static org.sparkzoo.jobs.JobCommands.script;
import static org.sparkzoo.jobs.JobCommands.waitForOutput;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The three jobs as a user runs them: through scripts/* and Apache's spark-submit, on a real standalone cluster
 * (a master and two worker JVMs on 127.0.0.1, started by scripts/local-cluster), on a real subset of
 * Fashion-MNIST converted into the ImageNet layout.
 */
@Tag("cluster")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {
    private static final ObjectMapper JSON = JobCommands.JSON;
    private static final Path ROOT = JobCommands.ROOT;
    private static final Path WORK = ROOT.resolve("jobs/target/cluster-it");
    private static final Path FASHION = JobCommands.FASHION;
    private static final JobCommands SH = new JobCommands(WORK);
    private static String master;
    private static String clusterPort;

    @BeforeAll
    static void startClusterAndPrepareData() throws Exception {
        assertTrue(Files.exists(FASHION.resolve("train-images-idx3-ubyte.gz")),
                "Fashion-MNIST missing: apt-get install dataset-fashion-mnist (.ci/run does)");
        deleteRecursively(WORK);
        Files.createDirectories(WORK);
        clusterPort = String.valueOf(freePort());
        SH.env.put("SPARKZOO_MASTER_PORT", clusterPort);
        SH.env.put("SPARKZOO_CLUSTER_DIR", WORK.resolve("cluster").toString());
        SH.run(List.of("java", "-cp", ROOT.resolve("jobs/target/lib") + "/*", "org.sparkzoo.dataprep.idx.IdxToImageNet",
                FASHION.toString(), WORK.resolve("imagenet").toString(), "--limit-train", "4000", "--limit-val", "1000"), 120);
        JobCommands.Result cluster = SH.run(List.of(script("local-cluster"), "start", "2", "1", "3g"), 120);
        master = cluster.lastLine();
        assertTrue(master.startsWith("spark://127.0.0.1:"), "cluster master: " + cluster.output);
        JobCommands.Result prep = SH.run(List.of(script("prep-job"), "--master", master, "--input", WORK.resolve("imagenet").toString(),
                "--output", WORK.resolve("shards").toString(), "--resize", "0", "--shard-size", "512"), 300);
        assertTrue(prep.output.contains("found = written + quarantined"), prep.output);
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (clusterPort != null) {
            SH.run(List.of(script("local-cluster"), "stop"), 60);
        }
    }

    @Test
    @Order(1)
    void bothExecutorsTrainAndAccuracyBeatsChanceByAWideMargin() throws Exception {
        Path run = WORK.resolve("run-lenet");
        JobCommands.Result train = SH.run(List.of(script("train-job"), "--master", master, "--model", "lenet5",
                "--data", WORK.resolve("shards").toString(), "--output", run.toString(), "--image-size", "28",
                "--channels", "1", "--epochs", "3", "--workers", "2", "--batch-size-per-worker", "32",
                "--averaging-frequency", "5"), 600);
        assertTrue(train.output.contains("oneDNN helpers on"), "native-kernels line with helpers on:\n" + train.output);

        JsonNode workers = JSON.readTree(run.resolve("workers.json").toFile());
        assertEquals(2, workers.get("jvms").asInt(), "dl4j-spark's training stats must name both executor JVMs: " + workers);

        List<JsonNode> rounds = metrics(run, "round");
        double first = rounds.get(0).get("loss").asDouble();
        double last = rounds.subList(rounds.size() - 5, rounds.size()).stream().mapToDouble(r -> r.get("loss").asDouble()).average().orElseThrow();
        assertTrue(last < 0.6 * first, "loss must fall: first round " + first + ", mean of the last five " + last);
        long images = rounds.stream().mapToLong(r -> r.get("images").asLong()).sum();
        assertEquals(3 * 4000, images, "every training image once per epoch");

        JobCommands.Result eval = SH.run(List.of(script("eval-job"), "--master", master, "--checkpoints", run.resolve("model.zip").toString(),
                "--data", WORK.resolve("shards").toString(), "--output", WORK.resolve("report-lenet").toString(),
                "--resize-ratio", "1"), 300);
        JsonNode m = JSON.readTree(WORK.resolve("report-lenet/metrics.json").toFile());
        assertEquals(1000, m.get("images").asInt());
        assertTrue(m.get("top1").asDouble() > 0.6, "top-1 " + m.get("top1") + " must beat chance (0.1) by far\n" + eval.output);
        assertTrue(Files.exists(WORK.resolve("report-lenet/report.html")));
    }

    @Test
    @Order(2)
    void losingAnExecutorMidTrainingDoesNotLoseTheRun() throws Exception {
        Path run = WORK.resolve("run-executor-killed");
        Process train = SH.start(trainCommand(run, "lenet5", "--epochs", "2"));
        Path log = SH.logOf(train);
        waitForOutput(train, log, "round 6/", 300);
        List<ProcessHandle> executors = ProcessHandle.allProcesses()
                .filter(h -> h.info().commandLine().orElse("").contains("CoarseGrainedExecutorBackend"))
                .filter(h -> h.info().commandLine().orElse("").contains(WORK.resolve("cluster").toString())
                        || h.info().commandLine().orElse("").contains("spark://"))
                .toList();
        assertTrue(executors.size() >= 1, "no executor JVM found to kill");
        executors.get(0).destroyForcibly();
        assertTrue(train.waitFor(600, TimeUnit.SECONDS), "training did not finish after an executor was killed");
        String output = Files.readString(log);
        assertEquals(0, train.exitValue(), "training must survive the loss of an executor:\n" + output);
        List<JsonNode> rounds = metrics(run, "round");
        assertEquals(2 * 4000, rounds.stream().mapToLong(r -> r.get("images").asLong()).sum(), "no round lost or repeated");
        List<JsonNode> epochs = metrics(run, "epoch");
        double top1 = epochs.get(epochs.size() - 1).get("val_top1").asDouble();
        assertTrue(top1 > 0.6, "accuracy after the executor loss should stay comparable (lenet5 reaches ~0.7+ here): " + top1);
    }

    @Test
    @Order(3)
    void killedDriverResumesFromTheLastCheckpointNotFromZero() throws Exception {
        Path run = WORK.resolve("run-driver-killed");
        Process train = SH.start(trainCommand(run, "lenet5", "--epochs", "2", "--checkpoint-every-rounds", "3"));
        Path log = SH.logOf(train);
        waitForOutput(train, log, "round 8/", 300);
        train.descendants().forEach(ProcessHandle::destroyForcibly);
        train.destroyForcibly();
        train.waitFor(60, TimeUnit.SECONDS);
        List<String> command = new ArrayList<>(trainCommand(run, "lenet5", "--epochs", "2", "--checkpoint-every-rounds", "3"));
        command.add("--resume");
        JobCommands.Result resumed = SH.run(command, 600);
        Matcher m = Pattern.compile("resuming from \\S+ckpt-e(\\d+)-r(\\d+)\\.zip").matcher(resumed.output);
        assertTrue(m.find(), "resume must name the checkpoint it continues from:\n" + resumed.output);
        int epoch = Integer.parseInt(m.group(1));
        int round = Integer.parseInt(m.group(2));
        assertTrue(epoch > 0 || round >= 6, "resumed from epoch " + epoch + " round " + round + ", expected at least round 6");
        Matcher first = Pattern.compile("epoch \\d+/\\d+ round (\\d+)/").matcher(resumed.output);
        assertTrue(first.find(), resumed.output);
        int firstRound = Integer.parseInt(first.group(1));
        assertEquals(epoch == 0 ? round + 1 : 1, firstRound, "the resumed run continues with the next round:\n" + resumed.output);
        assertTrue(Files.exists(run.resolve("model.zip")));
        List<JsonNode> epochs = metrics(run, "epoch");
        assertTrue(epochs.get(epochs.size() - 1).get("val_top1").asDouble() > 0.6, "the resumed run still learns: " + epochs);
    }

    @Test
    @Order(4)
    void densenet121TrainsOnTheClusterAndEvalJobLoadsItsCheckpoint() throws Exception {
        Path run = WORK.resolve("run-densenet121");
        SH.run(List.of(script("train-job"), "--master", master, "--model", "densenet121",
                "--data", WORK.resolve("shards").toString(), "--output", run.toString(), "--image-size", "32",
                "--channels", "3", "--workers", "2", "--batch-size-per-worker", "8", "--averaging-frequency", "2",
                "--epochs", "1", "--max-rounds", "3", "--validate-every", "0", "--optimizer", "nesterov", "--lr", "0.05"), 900);
        List<JsonNode> rounds = metrics(run, "round");
        assertEquals(3, rounds.size());
        assertTrue(rounds.stream().allMatch(r -> Double.isFinite(r.get("loss").asDouble())));
        assertTrue(Files.exists(run.resolve("model.zip")));
        Path ckpt = Files.list(run.resolve("checkpoints")).filter(p -> p.getFileName().toString().startsWith("ckpt-")).findFirst().orElseThrow();
        SH.run(List.of(script("eval-job"), "--master", master, "--checkpoints", ckpt.toString(),
                "--data", WORK.resolve("shards").toString(), "--output", WORK.resolve("report-densenet121").toString()), 900);
        JsonNode m = JSON.readTree(WORK.resolve("report-densenet121/metrics.json").toFile());
        assertEquals(1000, m.get("images").asInt());
        assertEquals("densenet121@32", m.get("members").get(0).get("name").asText());
    }

    private static List<String> trainCommand(Path run, String model, String... extra) {
        List<String> c = new ArrayList<>(List.of(script("train-job"), "--master", master, "--model", model,
                "--data", WORK.resolve("shards").toString(), "--output", run.toString(), "--image-size", "28",
                "--channels", "1", "--workers", "2", "--batch-size-per-worker", "32", "--averaging-frequency", "5"));
        c.addAll(Arrays.asList(extra));
        return c;
    }
}
