package org.sparkzoo.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.conf.Configuration;
import org.sparkzoo.jobs.train.RunFolder;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * What the integration tests share to run the jobs as a user does: scripts/* as child processes (output to a log
 * file under the test's work folder), waiting for a line of output, and reading a run's metrics.
 */
final class JobScripts {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path ROOT = Path.of(System.getProperty("project.root", "..")).toAbsolutePath().normalize();
    static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");

    private final Path work;
    private final Path directory;
    private final Map<String, String> env = new HashMap<>();
    private final Map<Long, Path> logs = new ConcurrentHashMap<>();

    /** Logs go to {@code work}; the commands run in {@code directory} (where relative local paths would land). */
    JobScripts(Path work, Path directory) {
        this.work = work;
        this.directory = directory;
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
    }

    JobScripts env(String name, String value) {
        env.put(name, value);
        return this;
    }

    static String script(String name) {
        return ROOT.resolve("scripts").resolve(name).toString();
    }

    /** Fashion-MNIST's IDX files as an ImageNet tree (train/&lt;wnid&gt;/*.JPEG, flat val/ + Kaggle labels). */
    void fashionMnistTree(Path out, int train, int val) throws Exception {
        if (!Files.exists(FASHION.resolve("train-images-idx3-ubyte.gz"))) {
            throw new AssertionError("Fashion-MNIST missing: apt-get install dataset-fashion-mnist (.ci/run does)");
        }
        run(List.of("java", "-cp", ROOT.resolve("jobs/target/lib") + "/*", "org.sparkzoo.dataprep.idx.IdxToImageNet",
                FASHION.toString(), out.toString(), "--limit-train", String.valueOf(train), "--limit-val", String.valueOf(val)), 120);
    }

    static final class Result {
        final int exit;
        final String output;

        Result(int exit, String output) {
            this.exit = exit;
            this.output = output;
        }

        String lastLine() {
            String[] lines = output.strip().split("\n");
            return lines[lines.length - 1].trim();
        }
    }

    /** Runs a command to completion; fails the test with its output when it fails or takes too long. */
    Result run(List<String> command, int timeoutSeconds) throws Exception {
        Result r = runAllowingFailure(command, timeoutSeconds);
        if (r.exit != 0) {
            throw new AssertionError("command failed (" + r.exit + "): " + String.join(" ", command) + "\n" + r.output);
        }
        return r;
    }

    Result runAllowingFailure(List<String> command, int timeoutSeconds) throws Exception {
        Process p = start(command);
        Path log = logOf(p);
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            kill(p);
            throw new AssertionError("timed out after " + timeoutSeconds + " s: " + String.join(" ", command) + "\n" + Files.readString(log));
        }
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }

    Process start(List<String> command) throws IOException {
        Path log = Files.createTempFile(work, "cmd", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).directory(directory.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        logs.put(p.pid(), log);
        return p;
    }

    Path logOf(Process p) {
        return logs.get(p.pid());
    }

    /** Kills a job as a crash would: the driver and every process it started (executors), without warning. */
    static void kill(Process p) throws InterruptedException {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(60, TimeUnit.SECONDS);
    }

    void waitForOutput(Process p, String text, int seconds) throws Exception {
        Path log = logOf(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (Files.readString(log).contains(text)) {
                return;
            }
            if (!p.isAlive()) {
                throw new AssertionError("the job ended before printing '" + text + "':\n" + Files.readString(log));
            }
            Thread.sleep(500);
        }
        throw new AssertionError("no '" + text + "' within " + seconds + " s:\n" + Files.readString(log));
    }

    /** The run's metrics rows of one type ("round", "epoch"), each round once (RunFolder.read drops redone rows). */
    static List<JsonNode> metrics(String runUri, Configuration conf, String type) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (Map<String, Object> m : RunFolder.read(runUri, conf)) {
            if (type.equals(m.get("type"))) {
                out.add(JSON.valueToTree(m));
            }
        }
        return out;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static void deleteRecursively(Path p) throws IOException {
        if (Files.exists(p)) {
            try (var walk = Files.walk(p)) {
                walk.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }
}
