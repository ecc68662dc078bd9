package org.sparkzoo.jobs;

import org.junit.jupiter.api.Test;
import org.sparkzoo.jobs.eval.FashionMnistRun;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad input through each job's real main, in its own JVM as spark-submit would start it (local mode, the embedded
 * default's 2 GB heap): a one-line error that names the input and the fix, a non-zero exit, no stack trace.
 */
class JobErrorsTest {

    private static final class Run {
        final int exit;
        final String stderr;

        Run(int exit, String stderr) {
            this.exit = exit;
            this.stderr = stderr;
        }
    }

    private static Run main(Class<?> job, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx2g", "-Dspark.master=local[2]", "-Dspark.ui.enabled=false", "-cp", System.getProperty("java.class.path")));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-opens") || a.startsWith("-Dorg.eclipse.deeplearning4j")) {
                cmd.add(a);
            }
        }
        cmd.add(job.getName());
        cmd.addAll(Arrays.asList(args));
        Path err = Files.createTempFile("sparkzoo-job", ".err");
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(240, TimeUnit.SECONDS), "finished");
        return new Run(p.exitValue(), Files.readString(err, StandardCharsets.UTF_8));
    }

    /** The job's own line (log lines on stderr are Spark's and ND4J's start-up), and no stack trace anywhere. */
    private static String oneLineError(Run r, String job, int exit) {
        assertEquals(exit, r.exit, r.stderr);
        assertFalse(r.stderr.contains("\tat ") || r.stderr.contains("\n    at "), "no stack trace:\n" + r.stderr);
        List<String> mine = new ArrayList<>();
        for (String line : r.stderr.split("\n")) {
            if (line.startsWith(job + ":")) {
                mine.add(line);
            }
        }
        assertEquals(1, mine.size(), r.stderr);
        return mine.get(0);
    }

    @Test
    void prepJobIntoAnExistingDatasetWithoutOverwrite() throws Exception {
        Path out = Files.createTempDirectory("sparkzoo-prep-exists");
        Files.writeString(out.resolve("manifest.json"), "{}");
        String line = oneLineError(main(PrepJob.class, "--input", out.resolve("no-input").toString(), "--output", out.toString()), "prep-job", 1);
        assertTrue(line.startsWith("prep-job: error: output ") && line.contains("--overwrite") && line.contains(out.toString()), line);
    }

    @Test
    void evalJobRefusesWeightsItCannotUse() throws Exception {
        String[] base = {"--checkpoints", "a/model.zip,b/model.zip", "--data", "shards", "--output", "report", "--ensemble", "weighted"};
        for (String[] bad : List.of(new String[]{"--weights", "-1,2"}, new String[]{"--weights", "0,0"},
                new String[]{"--weights", "NaN,1"}, new String[]{"--weights", "x,1"}, new String[]{"--weights", "1,2,3"},
                new String[]{"--weights", "1"})) {
            List<String> args = new ArrayList<>(Arrays.asList(base));
            args.addAll(Arrays.asList(bad));
            String line = oneLineError(main(EvalJob.class, args.toArray(new String[0])), "eval-job", 2);
            assertTrue(line.contains("--weights"), line);
        }
        String mean = oneLineError(main(EvalJob.class, "--checkpoints", "a.zip,b.zip", "--data", "d", "--output", "o", "--weights", "1,2"), "eval-job", 2);
        assertTrue(mean.contains("only used by --ensemble weighted"), mean);
    }

    @Test
    void trainJobWithADriverHeapTooSmallForItsWorkersResults() throws Exception {
        FashionMnistRun f = FashionMnistRun.get();
        Path out = Files.createTempDirectory("sparkzoo-r50-heap");
        // resnet50 at 8 px with two local workers: it died of OutOfMemoryError: Java heap space after round one
        String line = oneLineError(main(TrainJob.class, "--model", "resnet50", "--image-size", "8", "--channels", "1", "--data", f.data,
                "--output", out.toUri().toString(), "--workers", "2", "--epochs", "1"), "train-job", 1);
        assertTrue(line.contains("Java heap") && line.contains("--driver-memory 3g"), line);
    }
}
