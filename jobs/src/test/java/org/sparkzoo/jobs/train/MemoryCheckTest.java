package org.sparkzoo.jobs.train;

import org.apache.spark.SparkConf;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.sparkzoo.jobs.checkpoint.Checkpoints;
import org.sparkzoo.jobs.cli.UserError;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelRegistry;
import org.sparkzoo.models.ModelSpec;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
    void yarnContainersMustHoldNd4jsOffHeapLimitBesideTheHeap() {
        SparkConf yarn = new SparkConf().set("spark.master", "yarn").set("spark.executor.memory", "2g")
                .set("spark.executor.extraJavaOptions", "-Dorg.bytedeco.javacpp.maxbytes=4G -Dorg.bytedeco.javacpp.maxphysicalbytes=7G");
        // Spark's default overhead: max(384 MB, 10% of the heap) = 384 MB for 2 GB
        assertEquals(384L << 20, MemoryCheck.overhead(yarn, 2L << 30));
        assertEquals(1638L << 20, MemoryCheck.overhead(yarn, 16L << 30));
        UserError e = assertThrows(UserError.class, () -> MemoryCheck.checkContainers(yarn));
        assertTrue(e.getMessage().contains("spark.executor.memoryOverhead") && e.getMessage().contains("384 MB")
                && e.getMessage().contains("5120m"), e.getMessage());
        // 4 GB for ND4J + 1 GB for the JVM's own native memory: exactly enough
        assertDoesNotThrow(() -> MemoryCheck.checkContainers(yarn.clone().set("spark.executor.memoryOverhead", "5g")));
        assertThrows(UserError.class, () -> MemoryCheck.checkContainers(yarn.clone().set("spark.executor.memoryOverhead", "5119m")));
        // javacpp's whole-process limit beyond the container: YARN would kill first
        UserError physical = assertThrows(UserError.class, () -> MemoryCheck.checkContainers(yarn.clone()
                .set("spark.executor.memoryOverhead", "5g").set("spark.executor.memory", "1g")));
        assertTrue(physical.getMessage().contains("maxphysicalbytes") && physical.getMessage().contains("6144m"), physical.getMessage());
        // unset maxbytes: javacpp's default is the heap size, which 10% overhead never holds
        SparkConf unset = new SparkConf().set("spark.master", "k8s://https://host:6443").set("spark.executor.memory", "4g");
        assertTrue(assertThrows(UserError.class, () -> MemoryCheck.checkContainers(unset)).getMessage().contains("Kubernetes"));
        // standalone and local have no container to outgrow
        assertDoesNotThrow(() -> MemoryCheck.checkContainers(yarn.clone().set("spark.master", "spark://host:7077")));
        assertDoesNotThrow(() -> MemoryCheck.checkContainers(new SparkConf()));
    }

    @Test
    void localModeCountsEveryWorkerInTheDriverJvm() {
        long perWorker = 300L << 20;
        assertThrows(UserError.class, () -> MemoryCheck.check(new SparkConf(), true, 1L << 30, "vgg16", perWorker, 1000, 224, 16, 4));
        assertDoesNotThrow(() -> MemoryCheck.check(new SparkConf(), true, 2L << 30, "vgg16", perWorker, 1000, 224, 16, 4));
    }

    @Test
    void withoutAGivenBatchTheLargestThatFitsIsPicked() throws Exception {
        org.sparkzoo.jobs.eval.FashionMnistRun f = org.sparkzoo.jobs.eval.FashionMnistRun.get();
        TrainOptions o = new TrainOptions();
        o.model = "vgg16";
        o.optimizer = "nesterov";
        o.channels = 3;
        o.batchSizePerWorker = 32;
        java.nio.file.Path out = java.nio.file.Files.createTempDirectory("sparkzoo-batch");
        Checkpoints none = new Checkpoints(out.toUri().toString(), f.hadoop);
        ModelSpec vgg = ModelRegistry.get("vgg16");
        // this JVM's off-heap limit cannot hold two vgg16 workers at 224 with 32 images each
        MemoryCheck.Footprint fp = MemoryCheck.Footprint.of(vgg.configuration(ModelConfig.of(10, 3, 224, 224)),
                new org.nd4j.linalg.learning.config.Nesterovs(), 224, 3);
        MemoryCheck.Budget budget = new MemoryCheck.Budget(f.spark.sparkContext().getConf(), true,
                org.bytedeco.javacpp.Pointer.maxBytes(), 2);
        assertTrue(!budget.fits(fp, 32), "the test needs a limit below " + budget.need(fp, 32));
        int picked = MemoryCheck.batchSize(f.spark, vgg, o, 224, 10, 2, none);
        assertTrue(picked > 0 && picked < 32, "picked " + picked);
        assertTrue(budget.fits(fp, picked) && !budget.fits(fp, picked + 1), "the largest that fits: " + picked);
        // the user's choice is kept (check() then refuses it with the numbers)
        o.batchSizeGiven = true;
        assertEquals(32, MemoryCheck.batchSize(f.spark, vgg, o, 224, 10, 2, none));
        // a batch that fits is kept as the recipe gave it
        o.batchSizeGiven = false;
        o.batchSizePerWorker = 1;
        assertEquals(1, MemoryCheck.batchSize(f.spark, vgg, o, 224, 10, 2, none));
    }

    @Test
    void theFootprintFromTheConfigurationMatchesTheBuiltNetwork() {
        ModelConfig c = ModelConfig.of(10, 1, 32, 32).withUpdater(new org.nd4j.linalg.learning.config.Nesterovs(0.1, 0.9));
        ComputationGraph net = ModelRegistry.get("resnet18").build(c);
        MemoryCheck.Footprint built = MemoryCheck.Footprint.of(net, 32, 1);
        MemoryCheck.Footprint planned = MemoryCheck.Footprint.of(net.getConfiguration(), new org.nd4j.linalg.learning.config.Nesterovs(), 32, 1);
        assertEquals(built.params, planned.params);
        assertEquals(built.activationsPerExample, planned.activationsPerExample);
        // batch-norm running statistics have no updater state: the plan is an upper bound within 1%
        assertTrue(planned.updaterState >= built.updaterState && planned.updaterState < 1.01 * built.updaterState,
                planned.updaterState + " vs " + built.updaterState);
    }

    @Test
    void aDriverHeapThatCannotHoldTheWorkersResultsIsRefusedWithTheFix() {
        // resnet50's 23.6 M parameters with Nesterov's state: measured to run out of a 2 GB heap with 2 local workers
        // and to fit in 2.4 GB; resnet18 (11.2 M) ran with 2 workers in 1.4 GB
        MemoryCheck.Footprint r50 = new MemoryCheck.Footprint(23_581_642, 23_528_522, 1000);
        UserError e = assertThrows(UserError.class,
                () -> MemoryCheck.checkHeap(new SparkConf(), true, 2L << 30, "resnet50", r50, 2));
        assertTrue(e.getMessage().contains("--driver-memory 3g") && !e.getMessage().contains("\n"), e.getMessage());
        assertDoesNotThrow(() -> MemoryCheck.checkHeap(new SparkConf(), true, 2400L << 20, "resnet50", r50, 2));
        assertDoesNotThrow(() -> MemoryCheck.checkHeap(new SparkConf(), true, 2L << 30, "resnet50", r50, 1));
        MemoryCheck.Footprint r18 = new MemoryCheck.Footprint(11_189_738, 11_175_370, 1000);
        assertDoesNotThrow(() -> MemoryCheck.checkHeap(new SparkConf(), true, 1400L << 20, "resnet18", r18, 2));
        // on a cluster an executor holds the results of its cores
        SparkConf executors = new SparkConf().set("spark.executor.memory", "2g").set("spark.executor.cores", "4");
        UserError cluster = assertThrows(UserError.class, () -> MemoryCheck.checkHeap(executors, false, 0, "resnet50", r50, 8));
        assertTrue(cluster.getMessage().contains("--executor-memory"), cluster.getMessage());
    }
}
