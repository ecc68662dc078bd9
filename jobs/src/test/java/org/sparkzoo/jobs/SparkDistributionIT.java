package org.sparkzoo.jobs;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The three jobs on a genuine Spark distribution (PyPI's pyspark of the pom's Spark version, SPARK_HOME pointing at
 * it) instead of the embedded runtime: scripts/test-spark-distribution, one line per check. Tagged "cluster":
 * -DskipClusterTests leaves it out.
 */
@Tag("cluster")
class SparkDistributionIT {
    @Test
    void prepTrainEvalRunOnTheDistributionsJarsAndTrainingLearns() throws Exception {
        java.nio.file.Path work = JobScripts.ROOT.resolve("jobs/target/spark-distribution-it");
        java.nio.file.Files.createDirectories(work);
        JobScripts.Result r = new JobScripts(work, work).runAllowingFailure(
                List.of(JobScripts.script("test-spark-distribution")), 900);
        assertEquals(0, r.exit, "scripts/test-spark-distribution failed:\n" + r.output);
        assertTrue(r.output.contains("test-spark-distribution: all checks passed"), r.output);
    }
}
