package org.sparkzoo.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.security.UserGroupInformation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.sparkzoo.dataprep.Manifest;

import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sparkzoo.jobs.JobScripts.Result;
import static org.sparkzoo.jobs.JobScripts.script;

/**
 * The three jobs on a real HDFS (a NameNode and a DataNode of Hadoop's MiniDFSCluster, 3.3.4 like the Hadoop client
 * Spark 3.5 ships, on 127.0.0.1), through scripts/* with two executor JVMs ({@code local-cluster}).
 *
 * <p>Every job gets only relative paths, and the file system is named only by {@code --conf spark.hadoop.*}:
 * {@code fs.defaultFS=viewfs://sparkzoo} with a mount table that links {@code /user} to the HDFS. A relative path
 * then lands in the user's HDFS home, and every place that opens a file (driver and executors) must have the job's
 * Hadoop configuration: without the mount table a {@code viewfs://sparkzoo/...} path opens nowhere, so a loader
 * that built {@code new Configuration()} would fail. The test reads the results back from HDFS directly.
 */
@Tag("cluster")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HdfsIT {
    private static final java.nio.file.Path WORK = JobScripts.ROOT.resolve("jobs/target/hdfs-it");
    // 20 rounds of 2 workers x 32 per epoch: the kill at round 3 (the log is polled every 0.5 s) must land well
    // before the epoch ends; at 4 rounds per epoch, 0.1 s rounds reached the epoch's end first
    private static final int TRAIN = 1280;
    private static final int VAL = 320;
    private static MiniDFSCluster dfs;
    private static FileSystem hdfs;
    private static String hdfsUri;
    private static Path home;
    private static JobScripts jobs;
    private static final Configuration CLIENT = new Configuration();

    @BeforeAll
    static void startHdfsAndPutTheImagesThere() throws Exception {
        JobScripts.deleteRecursively(WORK);
        Files.createDirectories(WORK.resolve("cwd"));
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, WORK.resolve("dfs").toString());
        conf.set("dfs.namenode.rpc-bind-host", "127.0.0.1");
        conf.set("dfs.namenode.http-address", "127.0.0.1:0");
        // closing a file otherwise waits for the DataNode to report its block (~0.25 s a file here, ~0.1 s with this)
        conf.setInt("dfs.namenode.file.close.num-committed-allowed", 1);
        dfs = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        dfs.waitActive();
        hdfsUri = "hdfs://127.0.0.1:" + dfs.getNameNodePort();
        hdfs = FileSystem.get(URI.create(hdfsUri), CLIENT);
        // the jobs run as this OS user: a relative path is under its HDFS home
        home = new Path(hdfsUri + "/user/" + UserGroupInformation.getCurrentUser().getShortUserName());
        hdfs.mkdirs(home);

        // relative local paths would land in cwd/: the jobs run there, and the test checks it stays empty
        jobs = new JobScripts(WORK, WORK.resolve("cwd"));
        java.nio.file.Path tree = WORK.resolve("imagenet");
        jobs.fashionMnistTree(tree, TRAIN, VAL);
        put(tree, new Path(home, "imagenet"));
        assertEquals(TRAIN + VAL, hdfs.getContentSummary(new Path(home, "imagenet")).getFileCount() - 2, "images on HDFS (+ 2 label files)");
    }

    /** Copies a local tree to HDFS, many files at a time: each close waits on the DataNode, not on the CPU. */
    private static void put(java.nio.file.Path tree, Path target) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try (var files = Files.walk(tree)) {
            List<Future<?>> copies = new ArrayList<>();
            for (java.nio.file.Path f : files.filter(Files::isRegularFile).toList()) {
                Path to = new Path(target, tree.relativize(f).toString());
                copies.add(pool.submit(() -> {
                    hdfs.copyFromLocalFile(new Path(f.toUri()), to);
                    return null;
                }));
            }
            for (Future<?> c : copies) {
                c.get();
            }
        } finally {
            pool.shutdown();
        }
    }

    @AfterAll
    static void stopHdfs() throws Exception {
        if (dfs != null) {
            dfs.shutdown();
        }
    }

    /** spark-submit options: two executor JVMs, and the file system named only by spark.hadoop.* settings. */
    private static List<String> job(String name, String... options) {
        List<String> c = new ArrayList<>(List.of(script(name), "--master", "local-cluster[2,1,1536]",
                "--conf", "spark.executor.memory=1g", // spark-submit's --executor-memory does not apply to local-cluster
                "--conf", "spark.hadoop.fs.defaultFS=viewfs://sparkzoo",
                "--conf", "spark.hadoop.fs.viewfs.mounttable.sparkzoo.link./user=" + hdfsUri + "/user"));
        c.addAll(Arrays.asList(options));
        return c;
    }

    /** The same job in the driver alone: for errors that stop it before its first task. */
    private static List<String> onDriver(List<String> command) {
        List<String> c = new ArrayList<>(command);
        c.set(c.indexOf("--master") + 1, "local[1]");
        return c;
    }

    private static List<String> train(String... extra) {
        List<String> c = job("train-job", "--model", "lenet5", "--data", "shards", "--output", "run", "--image-size", "28",
                "--channels", "1", "--workers", "2", "--batch-size-per-worker", "32", "--averaging-frequency", "1",
                "--epochs", "2", "--checkpoint-every-rounds", "2");
        c.addAll(Arrays.asList(extra));
        return c;
    }

    @Test
    @Order(1)
    void prepJobReadsTheTreeFromHdfsAndWritesItsShardsThere() throws Exception {
        Result prep = jobs.run(job("prep-job", "--input", "imagenet", "--output", "shards", "--resize", "0", "--shard-size", "256"), 300);
        assertTrue(prep.output.contains("found = written + quarantined"), prep.output);
        assertTrue(prep.output.contains("viewfs://sparkzoo" + home.toUri().getPath() + "/shards"),
                "the relative --output is qualified against spark.hadoop.fs.defaultFS:\n" + prep.output);
        Manifest m = Manifest.read(new Path(home, "shards").toString(), CLIENT);
        assertEquals(TRAIN, m.split("train").count);
        assertEquals(VAL, m.split("val").count);
        long rows = 0;
        for (Manifest.ShardInfo s : m.split("train").shards()) {
            assertEquals(s.bytes, hdfs.getFileStatus(new Path(home, "shards/" + s.file)).getLen(), s.file);
            rows += s.rows;
        }
        assertEquals(TRAIN, rows);
        assertNothingLocal();
    }

    @Test
    @Order(2)
    void trainJobCheckpointsOnHdfsIsKilledAndResumesFromThere() throws Exception {
        Process first = jobs.start(train());
        jobs.waitForOutput(first, "round 3/", 300);
        JobScripts.kill(first);
        FileStatus[] written = hdfs.listStatus(new Path(home, "run/checkpoints"), p -> p.getName().startsWith("ckpt-"));
        assertTrue(written.length > 0, "checkpoints on HDFS before the kill");

        Result resumed = jobs.run(train("--resume"), 400);
        Matcher from = Pattern.compile("resuming from viewfs://sparkzoo\\S+/run/checkpoints/ckpt-e(\\d+)-r(\\d+)\\.zip").matcher(resumed.output);
        assertTrue(from.find(), "resume names the HDFS checkpoint it continues from:\n" + resumed.output);
        int epoch = Integer.parseInt(from.group(1));
        int round = Integer.parseInt(from.group(2));
        assertTrue(epoch == 0 && round >= 2, "resumed from epoch " + epoch + " round " + round + ", expected epoch 0 round >= 2");
        Matcher next = Pattern.compile("epoch \\d+/\\d+ round (\\d+)/").matcher(resumed.output);
        assertTrue(next.find(), resumed.output);
        assertEquals(round + 1, Integer.parseInt(next.group(1)), "the resumed run continues with the next round, not round 1:\n" + resumed.output);

        String run = new Path(home, "run").toString();
        assertEquals(2, hdfs.listStatus(new Path(run, "metrics")).length, "one metrics part per segment");
        List<JsonNode> rounds = JobScripts.metrics(run, CLIENT, "round");
        assertEquals(2L * TRAIN, rounds.stream().mapToLong(r -> r.get("images").asLong()).sum(), "every image once per epoch, across the kill");
        List<JsonNode> epochs = JobScripts.metrics(run, CLIENT, "epoch");
        assertEquals(2, epochs.size());
        assertTrue(epochs.get(1).get("val_top1").asDouble() > 0.3, "it learns (chance is 0.1): " + epochs);
        assertTrue(hdfs.getFileStatus(new Path(run, "model.zip")).getLen() > 0);
        assertNothingLocal();
    }

    @Test
    @Order(3)
    void evalJobReadsHdfsCheckpointsAndWritesItsReportThere() throws Exception {
        FileStatus[] ckpts = hdfs.listStatus(new Path(home, "run/checkpoints"), p -> p.getName().startsWith("ckpt-"));
        // one member by a relative path (through fs.defaultFS), one by its hdfs:// URI
        String absolute = ckpts[ckpts.length - 1].getPath().toString();
        assertTrue(absolute.startsWith(hdfsUri), absolute);
        Result eval = jobs.run(job("eval-job", "--checkpoints", "run/model.zip," + absolute, "--data", "shards",
                "--output", "report", "--resize-ratio", "1"), 300);
        JsonNode metrics;
        try (InputStream in = hdfs.open(new Path(home, "report/metrics.json"))) {
            metrics = JobScripts.JSON.readTree(in);
        }
        assertEquals(VAL, metrics.get("images").asInt(), eval.output);
        assertEquals(2, metrics.get("members").size(), metrics.toString());
        assertTrue(metrics.get("top1").asDouble() > 0.3, metrics.toString());
        assertTrue(hdfs.exists(new Path(home, "report/report.html")));
        assertNothingLocal();
    }

    @Test
    @Order(4)
    void aMissingHdfsPathOrAnUnreachableNameNodeIsOneLineNamingItAndTheFix() throws Exception {
        String missing = hdfsUri + "/no/such/imagenet";
        refused(jobs.runAllowingFailure(onDriver(job("prep-job", "--input", missing, "--output", "shards-2")), 120),
                "input " + missing + " does not exist: pass the dataset root");
        refused(jobs.runAllowingFailure(onDriver(train("--data", hdfsUri + "/no/such/shards", "--output", "run-2")), 120),
                "no manifest at " + hdfsUri + "/no/such/shards/manifest.json");

        String dead = "hdfs://127.0.0.1:" + JobScripts.freePort();
        refused(jobs.runAllowingFailure(onDriver(train("--data", dead + "/shards", "--output", "run-2")), 120),
                "cannot reach the file system of " + dead + "/shards (java.net.ConnectException");
        refused(jobs.runAllowingFailure(onDriver(job("eval-job", "--checkpoints", "run/model.zip", "--data", "shards",
                "--output", dead + "/report")), 120), "spark.hadoop.fs.defaultFS=hdfs://<namenode>:<port>");
    }

    private static void refused(Result r, String expected) {
        assertEquals(1, r.exit, r.output);
        assertTrue(r.output.contains(expected), "expected '" + expected + "' in:\n" + r.output);
        // Spark may log its own traces on a loaded machine (heartbeat timeouts); the job's error must come without one
        assertFalse(r.output.contains("at org.sparkzoo."), "no stack trace:\n" + r.output);
        long errorLines = r.output.lines().filter(l -> l.contains("-job: error: ")).count();
        assertEquals(1, errorLines, r.output);
    }

    /** A relative path that missed the HDFS would have landed in the jobs' working folder. */
    private static void assertNothingLocal() throws Exception {
        try (var files = Files.list(WORK.resolve("cwd"))) {
            List<String> names = files.map(p -> p.getFileName().toString()).filter(n -> !n.equals("spark-warehouse")).toList();
            assertEquals(List.of(), names, "written locally instead of on HDFS");
        }
    }
}
