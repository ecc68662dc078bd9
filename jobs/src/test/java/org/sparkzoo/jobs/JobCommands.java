package org.sparkzoo.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.sparkzoo.jobs.train.RunFolder;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * What the cluster tests share: the project's scripts run as a user runs them, from the project root, each with
 * its output in a log under the test's work folder and with the environment the test set up (a cluster's port,
 * HADOOP_CONF_DIR, ...).
 */
final class JobCommands {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path ROOT = Path.of(System.getProperty("project.root", "..")).toAbsolutePath().normalize();
    static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");

    private final Path work;
    /** Added to every command's environment. */
    final Map<String, String> env = new HashMap<>(Map.of("SPARK_LOCAL_IP", "127.0.0.1"));
    private final Map<Long, Path> logs = new ConcurrentHashMap<>();

    JobCommands(Path work) {
        this.work = work;
    }

    static String script(String name) {
        return ROOT.resolve("scripts").resolve(name).toString();
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
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("timed out after " + timeoutSeconds + " s: " + String.join(" ", command) + "\n" + Files.readString(log));
        }
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }

    Process start(List<String> command) throws IOException {
        Path log = Files.createTempFile(work, "cmd", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).directory(ROOT.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        logs.put(p.pid(), log);
        return p;
    }

    Path logOf(Process p) {
        return logs.get(p.pid());
    }

    static void waitForOutput(Process p, Path log, String text, int seconds) throws Exception {
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

    /** A run folder's metrics rows of one type ("round", "epoch"), each round once (RunFolder.read). */
    static List<JsonNode> metrics(Path run, String type) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (Map<String, Object> m : RunFolder.read(run.toUri().toString(), new org.apache.hadoop.conf.Configuration())) {
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
                walk.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }
}
