package org.sparkzoo.models.training;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
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
 * {@link LinearConvolutionLayer} against DL4J's convolution on the same parameters and input: the same gradients,
 * bit for bit, with one forward convolution per training step and no kept copy of the output (DL4J's layer, the
 * control, runs the forward again in its backward when it keeps none); and that a zoo graph trains its convolutions
 * with the identity activation with it, keeping the helper each had.
 */
class LinearConvolutionLayerTest {

    @Test
    void sameGradientsWithoutAKeptOutputOrASecondForward() {
        ConvolutionLayer conf = new ConvolutionLayer.Builder(3, 3).stride(2, 2).padding(1, 1).nIn(5).nOut(7)
                .activation(Activation.IDENTITY).hasBias(false).convolutionMode(ConvolutionMode.Truncate).build();
        NeuralNetConfiguration layerConf = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT).layer(conf).build();
        long numParams = conf.initializer().numParams(layerConf);
        INDArray params = Nd4j.rand(DataType.FLOAT, 1, numParams).subi(0.5);
        Layer stock = conf.instantiate(layerConf, null, 0, params.dup(), false, DataType.FLOAT);
        Layer fast = new LinearConvolutionLayer(layerConf, DataType.FLOAT);
        fast.setParamsViewArray(params.dup());
        fast.setParamTable(conf.initializer().init(layerConf, fast.params(), false));
        for (Layer layer : new Layer[]{stock, fast}) {
            layer.setBackpropGradientsViewArray(Nd4j.create(DataType.FLOAT, 1, numParams));
        }
        assertTrue(LinearConvolutionLayer.takes(conf));
        fast.setCacheMode(org.deeplearning4j.nn.conf.CacheMode.DEVICE);
        assertEquals(org.deeplearning4j.nn.conf.CacheMode.NONE, cacheMode(fast),
                "the layer keeps no copy of its output whatever mode the graph sets");

        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 5, 17, 19).subi(0.5);
        long[] stockCounts = new long[1], fastCounts = new long[1];
        Pair<Gradient, INDArray> expected = ProfiledSteps.layerStep(stock, x, "conv2d", stockCounts);
        Pair<Gradient, INDArray> actual = ProfiledSteps.layerStep(fast, x, "conv2d", fastCounts);
        assertEquals(expected.getSecond(), actual.getSecond(), "input gradient");
        assertEquals(expected.getFirst().gradient(), actual.getFirst().gradient(), "weight gradient");
        assertEquals(2, stockCounts[0], "DL4J's layer without a kept output, the control: its forward, then again in its backward");
        assertEquals(1, fastCounts[0], "forward convolutions in one training step");

        ConvolutionLayer relu = new ConvolutionLayer.Builder(3, 3).nIn(5).nOut(7).activation(Activation.RELU).build();
        assertFalse(LinearConvolutionLayer.takes(relu), "a convolution with an activation needs its output in the backward");
    }

    private static Object cacheMode(Layer layer) {
        try {
            java.lang.reflect.Field f = org.deeplearning4j.nn.layers.AbstractLayer.class.getDeclaredField("cacheMode");
            f.setAccessible(true);
            return f.get(layer);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void zooGraphsTrainTheirLinearConvolutionsWithIt() {
        ComputationGraph net = ModelRegistry.get("resnet18").build(ModelConfig.of(10, 3, 32, 32));
        long linear = 0;
        for (Layer layer : net.getLayers()) {
            if (layer instanceof LinearConvolutionLayer) {
                linear++;
                assertTrue(layer.params() != null && layer.params().length() > 0, "the replacement keeps the parameters");
                assertTrue(layer.getHelper() != null, "the replacement keeps a oneDNN helper: " + layer.conf().getLayer().getLayerName());
            }
            assertFalse(layer.getClass() == org.deeplearning4j.nn.layers.convolution.ConvolutionLayer.class
                            && LinearConvolutionLayer.takes((ConvolutionLayer) layer.conf().getLayer()),
                    "a linear convolution left to DL4J: " + layer.conf().getLayer().getLayerName());
        }
        assertEquals(20, linear, "resnet18's convolutions: the stem, 16 in the blocks, 3 projections");
        Layer stem = net.getLayers()[0];
        assertTrue(stem instanceof LinearConvolutionLayer, "the stem comes first: " + stem.conf().getLayer().getLayerName());
        assertTrue(stem.getHelper() instanceof InputConvHelper,
                "the stride-1 stem at 32x32 reads the images: it keeps the helper that skips their gradient, got " + stem.getHelper());
    }
}
