package org.sparkzoo.jobs.train;

import org.apache.spark.SparkConf;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.sparkzoo.jobs.JobMain.UserError;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelRegistry;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryCheckTest {

    @Test
    void activationsGrowWithBatchAndInputSize() {
        ComputationGraph lenet = ModelRegistry.get("lenet5").build(ModelConfig.of(10, 1, 28, 28));
        long b32 = MemoryCheck.workerBytes(lenet, 28, 1, 32);
        long b64 = MemoryCheck.workerBytes(lenet, 28, 1, 64);
        assertTrue(b64 > b32 && b32 > 4L * 3 * lenet.numParams(), b32 + " " + b64);
    }

    @Test
    void aClusterWhoseExecutorsCannotHoldAWorkerIsRefusedBeforeTraining() {
        SparkConf small = new SparkConf().set("spark.executor.extraJavaOptions", "-Dorg.bytedeco.javacpp.maxbytes=512M")
                .set("spark.executor.cores", "2");
        long perWorker = 400L << 20;
        UserError e = assertThrows(UserError.class,
                () -> MemoryCheck.check(small, false, 0, "resnet50", perWorker, 25_000_000, 224, 32, 8));
        assertTrue(e.getMessage().contains("resnet50") && e.getMessage().contains("maxbytes")
                && e.getMessage().contains("--batch-size-per-worker"), e.getMessage());
        SparkConf big = new SparkConf().set("spark.executor.extraJavaOptions", "-Dorg.bytedeco.javacpp.maxbytes=4G")
                .set("spark.executor.cores", "2");
        assertDoesNotThrow(() -> MemoryCheck.check(big, false, 0, "resnet50", perWorker, 25_000_000, 224, 32, 8));
    }

    @Test
    void localModeCountsEveryWorkerInTheDriverJvm() {
        long perWorker = 300L << 20;
        assertThrows(UserError.class, () -> MemoryCheck.check(new SparkConf(), true, 1L << 30, "vgg16", perWorker, 1000, 224, 16, 4));
        assertDoesNotThrow(() -> MemoryCheck.check(new SparkConf(), true, 2L << 30, "vgg16", perWorker, 1000, 224, 16, 4));
    }
}
