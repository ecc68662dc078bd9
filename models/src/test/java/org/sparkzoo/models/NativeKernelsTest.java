package org.sparkzoo.models;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.junit.jupiter.api.Test;

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
}
