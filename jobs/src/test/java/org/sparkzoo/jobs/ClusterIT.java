package org.sparkzoo.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sparkzoo.jobs.JobScripts.Result;
import static org.sparkzoo.jobs.JobScripts.deleteRecursively;
import static org.sparkzoo.jobs.JobScripts.freePort;
import static org.sparkzoo.jobs.JobScripts.script;

/**
 * The three jobs as a user runs them: through scripts/* and Apache's spark-submit, on a real standalone cluster
 * (a master and two worker JVMs on 127.0.0.1, started by scripts/local-cluster), on a real subset of
 * Fashion-MNIST converted into the ImageNet layout.
 */
@Tag("cluster")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {
    private static final ObjectMapper JSON = JobScripts.JSON;
    private static final Path WORK = JobScripts.ROOT.resolve("jobs/target/cluster-it");
    private static String master;
    private static String clusterPort;
    private static JobScripts jobs;

    @BeforeAll
    static void startClusterAndPrepareData() throws Exception {
        deleteRecursively(WORK);
        Files.createDirectories(WORK);
        clusterPort = String.valueOf(freePort());
        jobs = new JobScripts(WORK, JobScripts.ROOT).env("SPARKZOO_MASTER_PORT", clusterPort)
                .env("SPARKZOO_CLUSTER_DIR", WORK.resolve("cluster").toString());
        jobs.fashionMnistTree(WORK.resolve("imagenet"), 4000, 1000);
        Result cluster = run(List.of(script("local-cluster"), "start", "2", "1", "3g"), 120);
        master = cluster.lastLine();
        assertTrue(master.startsWith("spark://127.0.0.1:"), "cluster master: " + cluster.output);
        Result prep = run(List.of(script("prep-job"), "--master", master, "--input", WORK.resolve("imagenet").toString(),
                "--output", WORK.resolve("shards").toString(), "--resize", "0", "--shard-size", "512"), 300);
        assertTrue(prep.output.contains("found = written + quarantined"), prep.output);
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (clusterPort != null) {
            run(List.of(script("local-cluster"), "stop"), 60);
        }
    }

    @Test
    @Order(1)
    void bothExecutorsTrainAndAccuracyBeatsChanceByAWideMargin() throws Exception {
        Path run = WORK.resolve("run-lenet");
        Result train = run(List.of(script("train-job"), "--master", master, "--model", "lenet5",
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

        Result eval = run(List.of(script("eval-job"), "--master", master, "--checkpoints", run.resolve("model.zip").toString(),
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
        Process train = start(trainCommand(run, "lenet5", "--epochs", "2"));
        Path log = jobs.logOf(train);
        jobs.waitForOutput(train, "round 6/", 300);
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
        Process train = start(trainCommand(run, "lenet5", "--epochs", "2", "--checkpoint-every-rounds", "3"));
        jobs.waitForOutput(train, "round 8/", 300);
        JobScripts.kill(train);
        List<String> command = new ArrayList<>(trainCommand(run, "lenet5", "--epochs", "2", "--checkpoint-every-rounds", "3"));
        command.add("--resume");
        Result resumed = run(command, 600);
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
        run(List.of(script("train-job"), "--master", master, "--model", "densenet121",
                "--data", WORK.resolve("shards").toString(), "--output", run.toString(), "--image-size", "32",
                "--channels", "3", "--workers", "2", "--batch-size-per-worker", "8", "--averaging-frequency", "2",
                "--epochs", "1", "--max-rounds", "3", "--validate-every", "0", "--optimizer", "nesterov", "--lr", "0.05"), 900);
        List<JsonNode> rounds = metrics(run, "round");
        assertEquals(3, rounds.size());
        assertTrue(rounds.stream().allMatch(r -> Double.isFinite(r.get("loss").asDouble())));
        assertTrue(Files.exists(run.resolve("model.zip")));
        Path ckpt = Files.list(run.resolve("checkpoints")).filter(p -> p.getFileName().toString().startsWith("ckpt-")).findFirst().orElseThrow();
        run(List.of(script("eval-job"), "--master", master, "--checkpoints", ckpt.toString(),
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

    private static List<JsonNode> metrics(Path run, String type) throws IOException {
        return JobScripts.metrics(run.toUri().toString(), new Configuration(), type);
    }

    private static Result run(List<String> command, int timeoutSeconds) throws Exception {
        return jobs.run(command, timeoutSeconds);
    }

    private static Process start(List<String> command) throws IOException {
        return jobs.start(command);
    }
}
