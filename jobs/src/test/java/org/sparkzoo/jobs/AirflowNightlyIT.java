package org.sparkzoo.jobs;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Airflow DAG scripts/airflow/sparkzoo_nightly.py through a real Airflow from PyPI: scripts/airflow/test-nightly
 * (pinned venv, temporary AIRFLOW_HOME, `airflow dags test` runs of the three jobs on Fashion-MNIST, a killed and
 * retried train task, bad params). Tagged "airflow": -DskipClusterTests leaves it out with the cluster tests.
 */
@Tag("airflow")
class AirflowNightlyIT {
    private static final Path ROOT = Path.of(System.getProperty("project.root", "..")).toAbsolutePath().normalize();

    @Test
    void nightlyDagRunsPrepTrainEvalResumesAndFailsBadParamsWithTheJobsErrors() throws Exception {
        Path log = Files.createTempFile("test-nightly", ".log");
        Process p = new ProcessBuilder(ROOT.resolve("scripts/airflow/test-nightly").toString())
                .directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean finished = p.waitFor(15, TimeUnit.MINUTES);
        if (!finished) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        Files.delete(log);
        assertTrue(finished, "scripts/airflow/test-nightly did not finish within 15 minutes:\n" + output);
        assertEquals(0, p.exitValue(), "scripts/airflow/test-nightly failed:\n" + output);
        assertTrue(output.contains("test-nightly: all checks passed"), output);
    }
}
