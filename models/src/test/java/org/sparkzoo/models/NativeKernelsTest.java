package org.sparkzoo.models;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeKernelsTest {

    @Test
    void oneDnnHelpersAreOnAndUsedByConvolutionLayers() {
        NativeKernels.Status status = NativeKernels.enable();
        assertTrue(status.onednnBuild, "the build must be an -onednn classifier: " + status.line());
        assertTrue(status.helpersOn, "DL4J's oneDNN helpers must be on: " + status.line());
        assertTrue(status.line().contains("oneDNN helpers on"), status.line());

        ComputationGraph net = ModelRegistry.get("lenet5").build(ModelConfig.of(10, 1, 28, 28));
        ConvolutionLayer conv = (ConvolutionLayer) net.getLayer(0);
        assertInstanceOf(MKLDNNConvHelper.class, conv.getHelper(),
                "convolutions must run on oneDNN, not DL4J's built-in im2col path");
    }

    @Test
    void openBlasRunsOnTheThreadsOpenBlasNumThreadsSaysElseOne() {
        NativeKernels.Status status = NativeKernels.enable();
        int expected = NativeKernels.blasThreads(System.getenv(NativeKernels.BLAS_THREADS_ENV));
        // ND4J's start-up gave OpenBLAS OpenMP's count (all cores here); enable() must have set it back
        assertEquals(expected, Nd4j.factory().blas().getMaxThreads(), status.line());
        assertEquals(expected, status.blasThreads);
        assertTrue(status.line().contains("(BLAS " + expected + ")"), status.line());
    }

    @Test
    void blasThreadsReadsAPositiveCountAndFallsBackToOne() {
        assertEquals(1, NativeKernels.blasThreads(null));
        assertEquals(4, NativeKernels.blasThreads(" 4"));
        assertEquals(1, NativeKernels.blasThreads("0"));
        assertEquals(1, NativeKernels.blasThreads("all"));
    }
}
