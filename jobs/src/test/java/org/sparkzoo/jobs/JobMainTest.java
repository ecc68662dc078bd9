package org.sparkzoo.jobs;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JobMainTest {

    @Test
    void heapExhaustionReportedByASparkTaskFailureIsRecognized() {
        // what Spark's driver sees when a local-mode or executor task dies of it (seen with vgg16 and 2 GB of heap)
        Exception spark = new RuntimeException("Job aborted due to stage failure",
                new RuntimeException("Lost task 0.0 in stage 1.0: java.lang.OutOfMemoryError: Java heap space"));
        assertTrue(JobMain.outOfHeap(spark));
        assertTrue(JobMain.outOfHeap(new IllegalStateException(new OutOfMemoryError("Java heap space"))));
        assertFalse(JobMain.outOfHeap(new RuntimeException("Lost task 0.0: java.io.IOException: disk full")));
        assertTrue(JobMain.OUT_OF_HEAP.contains("--driver-memory") && JobMain.OUT_OF_HEAP.contains("--resume"));
    }
}
