package org.sparkzoo.models.training;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelRegistry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link DepthwiseLayer} against DL4J's depthwise convolution on the same parameters and input: the same gradients,
 * bit for bit, with one depthwise forward per training step instead of two (counted by ND4J's op profiler, with
 * DL4J's own layer as the control); and that a zoo graph trains its depthwise convolutions with it.
 */
class DepthwiseLayerTest {

    @Test
    void sameGradientsWithoutTheSecondForward() {
        DepthwiseConvolution2D conf = new DepthwiseConvolution2D.Builder(3, 3).stride(2, 2).padding(1, 1).nIn(5)
                .depthMultiplier(1).activation(Activation.IDENTITY).hasBias(false).convolutionMode(ConvolutionMode.Truncate).build();
        NeuralNetConfiguration layerConf = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT).layer(conf).build();
        long numParams = conf.initializer().numParams(layerConf);
        INDArray params = Nd4j.rand(DataType.FLOAT, 1, numParams).subi(0.5);
        Layer stock = conf.instantiate(layerConf, null, 0, params.dup(), false, DataType.FLOAT);
        Layer fast = new DepthwiseLayer(layerConf, DataType.FLOAT);
        fast.setParamsViewArray(params.dup());
        fast.setParamTable(conf.initializer().init(layerConf, fast.params(), false));
        for (Layer layer : new Layer[]{stock, fast}) {
            layer.setBackpropGradientsViewArray(Nd4j.create(DataType.FLOAT, 1, numParams));
        }
        assertTrue(DepthwiseLayer.takes(conf));

        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 5, 17, 19).subi(0.5);
        long[] stockCounts = new long[1], fastCounts = new long[1];
        Pair<Gradient, INDArray> expected = ProfiledSteps.layerStep(stock, x, "depthwise_conv2d", stockCounts);
        Pair<Gradient, INDArray> actual = ProfiledSteps.layerStep(fast, x, "depthwise_conv2d", fastCounts);
        assertEquals(expected.getSecond(), actual.getSecond(), "input gradient");
        assertEquals(expected.getFirst().gradient(), actual.getFirst().gradient(), "weight gradient");
        assertEquals(2, stockCounts[0], "DL4J's layer, the control: its forward, then again in its backward");
        assertEquals(1, fastCounts[0], "depthwise forwards in one training step");

        DepthwiseConvolution2D relu = new DepthwiseConvolution2D.Builder(3, 3).nIn(5).activation(Activation.RELU).build();
        assertFalse(DepthwiseLayer.takes(relu), "a depthwise convolution with an activation needs its output in the backward");
    }

    @Test
    void zooGraphsTrainTheirDepthwiseConvolutionsWithIt() {
        ComputationGraph net = ModelRegistry.get("mobilenet_v2").build(ModelConfig.of(10, 3, 32, 32));
        long depthwise = 0;
        for (Layer layer : net.getLayers()) {
            if (layer instanceof DepthwiseLayer) {
                depthwise++;
                assertTrue(layer.params() != null && layer.params().length() > 0, "the replacement keeps the parameters");
            }
            assertFalse(layer.getClass() == org.deeplearning4j.nn.layers.convolution.DepthwiseConvolution2DLayer.class,
                    "a depthwise convolution left to DL4J: " + layer.conf().getLayer().getLayerName());
        }
        assertEquals(17, depthwise, "mobilenet_v2's depthwise convolutions");
    }
}
