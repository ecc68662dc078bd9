package org.sparkzoo.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.yarn.api.records.ApplicationReport;
import org.apache.hadoop.yarn.api.records.FinalApplicationStatus;
import org.apache.hadoop.yarn.api.records.YarnApplicationState;
import org.apache.hadoop.yarn.client.api.YarnClient;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sparkzoo.jobs.JobScripts.deleteRecursively;
import static org.sparkzoo.jobs.JobScripts.script;

/**
 * train-job on YARN as a user submits it: a real ResourceManager and NodeManager (MiniYARNCluster) on 127.0.0.1,
 * their configuration in a HADOOP_CONF_DIR, and {@code scripts/train-job --master yarn --deploy-mode client}; the
 * executors run in the NodeManager's containers.
 */
@Tag("cluster")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class YarnIT {
    private static final Path WORK = JobScripts.ROOT.resolve("jobs/target/yarn-it");
    private static final JobScripts SH = new JobScripts(WORK, WORK);
    /** Executors of 1 GB heap whose ND4J may use 1 GB off-heap: 1 GB + the JVM's own 1 GB fit an overhead of 2 GB. */
    private static final String EXECUTOR_OPTIONS = "spark.executor.extraJavaOptions=-Dorg.bytedeco.javacpp.maxbytes=1G "
            + "-Dorg.bytedeco.javacpp.maxphysicalbytes=3G";
    private static final Set<YarnApplicationState> FINAL = Set.of(YarnApplicationState.FINISHED, YarnApplicationState.FAILED,
            YarnApplicationState.KILLED);
    private static MiniYARNCluster yarn;
    private static YarnClient client;

    @BeforeAll
    static void startYarnAndPrepareData() throws Exception {
        assertTrue(Files.exists(JobScripts.FASHION.resolve("train-images-idx3-ubyte.gz")),
                "Fashion-MNIST missing: apt-get install dataset-fashion-mnist (.ci/run does)");
        deleteRecursively(WORK);
        Files.createDirectories(WORK);
        SH.fashionMnistTree(WORK.resolve("imagenet"), 2000, 500);
        SH.run(List.of(script("prep-job"), "--input", WORK.resolve("imagenet").toString(),
                "--output", WORK.resolve("shards").toString(), "--resize", "0", "--shard-size", "512"), 300);

        YarnConfiguration conf = new YarnConfiguration();
        conf.set(YarnConfiguration.RM_BIND_HOST, "127.0.0.1");
        conf.set(YarnConfiguration.NM_BIND_HOST, "127.0.0.1");
        // MiniYARNCluster gives its NodeManagers this, not NM_PMEM_MB: AM (1 GB) + 2 executors (3 GB each) fit in 8 GB
        conf.setInt(YarnConfiguration.YARN_MINICLUSTER_NM_PMEM_MB, 8192);
        conf.setInt(YarnConfiguration.NM_VCORES, 4);
        conf.setInt(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, 256);
        conf.setInt(YarnConfiguration.RM_SCHEDULER_MAXIMUM_ALLOCATION_MB, 8192);
        // a JVM reserves far more virtual memory than it touches; the physical-memory check stays on
        conf.setBoolean(YarnConfiguration.NM_VMEM_CHECK_ENABLED, false);
        // shared build disks are often more than 90% full, which would mark the only node unhealthy
        conf.setFloat(YarnConfiguration.NM_MAX_PER_DISK_UTILIZATION_PERCENTAGE, 99.9f);
        // the capacity scheduler, as clusters run it, with a queue for training beside the default one
        conf.set("yarn.scheduler.capacity.root.queues", "default,training");
        conf.set("yarn.scheduler.capacity.root.default.capacity", "50");
        conf.set("yarn.scheduler.capacity.root.training.capacity", "50");
        conf.set("yarn.scheduler.capacity.root.training.maximum-capacity", "100");
        // one user may take the whole node, not only the queue's 50% (AM + 2 executors = 7 GB)
        conf.set("yarn.scheduler.capacity.root.training.user-limit-factor", "2");
        // YARN's default leaves 10% of a queue for application masters: less than one AM container on this small node
        conf.set("yarn.scheduler.capacity.maximum-am-resource-percent", "0.5");
        yarn = new MiniYARNCluster("YarnIT", 1, 1, 1);
        yarn.init(conf);
        yarn.start();
        Path confDir = WORK.resolve("hadoop-conf");
        Files.createDirectories(confDir);
        try (OutputStream out = Files.newOutputStream(confDir.resolve("yarn-site.xml"))) {
            yarn.getConfig().writeXml(out);
        }
        Configuration core = new Configuration(false);
        core.set("fs.defaultFS", "file:///"); // the staging folder and the data are local files on this one host
        try (OutputStream out = Files.newOutputStream(confDir.resolve("core-site.xml"))) {
            core.writeXml(out);
        }
        SH.env("HADOOP_CONF_DIR", confDir.toString());
        SH.env("YARN_CONF_DIR", confDir.toString());
        client = YarnClient.createYarnClient();
        client.init(yarn.getConfig());
        client.start();
        long deadline = System.currentTimeMillis() + 60_000;
        while (client.getNodeReports().isEmpty() && System.currentTimeMillis() < deadline) {
            Thread.sleep(200);
        }
        assertEquals(1, client.getNodeReports().size(), "the NodeManager did not register with the ResourceManager");
        assertEquals(8192, client.getNodeReports().get(0).getCapability().getMemorySize(), "the NodeManager's memory");
    }

    @AfterAll
    static void stopYarn() throws Exception {
        if (client != null) {
            client.stop();
        }
        if (yarn != null) {
            yarn.stop();
        }
    }

    @Test
    @Order(1)
    void trainJobTrainsInYarnContainers() throws Exception {
        Path run = WORK.resolve("run-lenet");
        long started = System.nanoTime();
        // with the security settings a shared cluster needs (docs/CLUSTER.md): YARN hands out the secret per application
        JobScripts.Result train = SH.run(trainCommand(run, "--conf", "spark.executor.memoryOverhead=2g", "--queue", "training",
                "--conf", "spark.authenticate=true", "--conf", "spark.network.crypto.enabled=true",
                "--conf", "spark.io.encryption.enabled=true"), 600);
        System.out.printf("YarnIT: train-job on YARN took %.0f s%n", (System.nanoTime() - started) / 1e9);

        List<ApplicationReport> apps = client.getApplications();
        assertEquals(1, apps.size(), "one application submitted to YARN: " + apps + "\n" + train.output);
        // the driver has exited; its application master unregisters from the ResourceManager a moment later
        long deadline = System.currentTimeMillis() + 60_000;
        while (!FINAL.contains(apps.get(0).getYarnApplicationState()) && System.currentTimeMillis() < deadline) {
            Thread.sleep(500);
            apps = client.getApplications();
        }
        assertEquals(FinalApplicationStatus.SUCCEEDED, apps.get(0).getFinalApplicationStatus(), apps.get(0).toString());
        assertEquals("training", apps.get(0).getQueue(), "--queue reaches YARN");

        // the NodeManager launched the executors (their launch scripts and logs are in its log folder), ND4J ran inside
        // them, and they are the JVMs that trained: dl4j-spark names each by its Spark executor id
        Set<String> executorIds = new TreeSet<>();
        for (Path container : containers(apps.get(0).getApplicationId().toString())) {
            Matcher m = Pattern.compile("YarnCoarseGrainedExecutorBackend .*--executor-id (\\d+)").matcher(read(container.resolve("launch_container.sh")));
            if (m.find()) {
                executorIds.add(m.group(1));
                assertTrue(read(container.resolve("stderr")).contains("native kernels:"), container + ": no ND4J start-up line");
            }
        }
        assertEquals(2, executorIds.size(), "two executor containers: " + executorIds);
        JsonNode workers = JobScripts.JSON.readTree(run.resolve("workers.json").toFile());
        Set<String> trained = new TreeSet<>();
        workers.get("minibatches_per_jvm").fieldNames().forEachRemaining(jvm -> trained.add(jvm.substring(jvm.lastIndexOf('/') + 1)));
        assertEquals(executorIds, trained, "the executors in YARN's containers trained: " + workers);

        List<JsonNode> rounds = JobScripts.metrics(run.toUri().toString(), new Configuration(), "round");
        assertEquals(2000, rounds.stream().mapToLong(r -> r.get("images").asLong()).sum(), "every training image once");
        double first = rounds.get(0).get("loss").asDouble();
        double last = rounds.get(rounds.size() - 1).get("loss").asDouble();
        assertTrue(last < 0.8 * first, "loss must fall: first round " + first + ", last " + last);
        assertTrue(Files.exists(run.resolve("model.zip")));
    }

    @Test
    @Order(2)
    void aContainerThatCannotHoldNd4jsOffHeapLimitIsRefusedBeforeYarnIsAsked() throws Exception {
        int appsBefore = client.getApplications().size();
        JobScripts.Result train = SH.runAllowingFailure(trainCommand(WORK.resolve("run-small-container"),
                "--conf", "spark.executor.memoryOverhead=1g"), 300);
        assertNotEquals(0, train.exit, train.output);
        String error = train.output.lines().filter(l -> l.startsWith("train-job: error:")).findFirst().orElse("");
        assertTrue(error.contains("spark.executor.memoryOverhead to 2048m") && error.contains("1024 MB"),
                "one line naming the setting to raise:\n" + train.output);
        assertFalse(train.output.contains("\tat "), "no stack trace:\n" + train.output);
        assertFalse(train.output.contains("round 1/"), train.output);
        assertEquals(appsBefore, client.getApplications().size(), "refused before any container was requested");
    }

    private static List<String> trainCommand(Path run, String... sparkOptions) {
        String sparkHome = JobScripts.ROOT.resolve("jobs/spark-runtime/target/spark-home").toString();
        String javaHome = System.getProperty("java.home");
        List<String> c = new ArrayList<>(List.of(script("train-job"), "--master", "yarn", "--deploy-mode", "client",
                "--num-executors", "2", "--executor-cores", "1", "--executor-memory", "1g",
                "--conf", EXECUTOR_OPTIONS, "--conf", "spark.yarn.am.memory=512m",
                // the NodeManager's containers get no JAVA_HOME of their own here
                "--conf", "spark.yarn.appMasterEnv.JAVA_HOME=" + javaHome, "--conf", "spark.executorEnv.JAVA_HOME=" + javaHome,
                // Spark's jars are at the same path on the (only) node: nothing to upload per application
                "--conf", "spark.yarn.jars=local:" + sparkHome + "/jars/*"));
        c.addAll(Arrays.asList(sparkOptions));
        c.addAll(List.of("--model", "lenet5", "--data", WORK.resolve("shards").toString(), "--output", run.toString(),
                "--image-size", "28", "--channels", "1", "--epochs", "1", "--workers", "2", "--batch-size-per-worker", "32",
                "--averaging-frequency", "5"));
        return c;
    }

    /** An application's container folders (launch_container.sh, stdout, stderr) in the NodeManager's log folders. */
    private static List<Path> containers(String appId) throws Exception {
        List<Path> out = new ArrayList<>();
        for (String dir : yarn.getNodeManager(0).getConfig().getTrimmedStrings(YarnConfiguration.NM_LOG_DIRS)) {
            Path app = Path.of(dir.replaceFirst("^file:", "")).resolve(appId);
            if (Files.isDirectory(app)) {
                try (Stream<Path> c = Files.list(app)) {
                    c.filter(Files::isDirectory).forEach(out::add);
                }
            }
        }
        return out;
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
