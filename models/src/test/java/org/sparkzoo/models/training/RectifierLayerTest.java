package org.sparkzoo.models.training;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelRegistry;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RectifierLayer} against DL4J's own activation layer, element by element, on inputs that sit on the kinks
 * (exactly 0 and exactly 6, and the floats either side of them) as well as spread over both sides; and that a zoo
 * graph trains its ReLU and ReLU6 layers with it.
 */
class RectifierLayerTest {

    @Test
    void reluMatchesDl4jsActivationLayerExactly() {
        compare(Activation.RELU);
    }

    @Test
    void relu6MatchesDl4jsActivationLayerExactly() {
        compare(Activation.RELU6);
    }

    private static void compare(Activation activation) {
        Random random = new Random(3);
        long[] shape = {4, 6, 33, 35};   // enough elements that libnd4j splits the ops between its threads
        int length = 4 * 6 * 33 * 35;
        float[] kinks = {0f, -0f, 6f, Math.nextUp(0f), Math.nextDown(0f), Math.nextUp(6f), Math.nextDown(6f)};
        float[] xs = new float[length], dys = new float[length];
        for (int i = 0; i < length; i++) {
            xs[i] = i % 5 == 0 ? kinks[(i / 5) % kinks.length] : (float) (random.nextGaussian() * 5 + 1);
            dys[i] = (float) random.nextGaussian();
        }
        INDArray x = Nd4j.create(xs, shape, 'c'), dy = Nd4j.create(dys, shape, 'c');
        ActivationLayer conf = new ActivationLayer.Builder().activation(activation).build();
        NeuralNetConfiguration layerConf = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT).layer(conf).build();
        Layer stock = conf.instantiate(layerConf, null, 0, null, false, DataType.FLOAT);
        Layer fast = new RectifierLayer(layerConf, DataType.FLOAT);
        assertTrue(RectifierLayer.takes(conf.getActivationFn()));

        INDArray[] stockOut = run(stock, x, dy), fastOut = run(fast, x, dy);
        for (int i = 0; i < length; i++) {
            assertEquals(stockOut[0].getFloat(i), fastOut[0].getFloat(i), 0f, activation + " at x = " + xs[i]);
            // == rather than bits: where DL4J's derivative is +0, 0 * dy is -0 for a negative dy
            assertTrue(stockOut[1].getFloat(i) == fastOut[1].getFloat(i),
                    activation + "'s input gradient at x = " + xs[i] + ": " + stockOut[1].getFloat(i) + " against " + fastOut[1].getFloat(i));
        }
        for (int i = 0; i < length; i++) {
            assertEquals(xs[i], x.getFloat(i), 0f, "the layer's input must be left as it was");
        }
    }

    private static INDArray[] run(Layer layer, INDArray x, INDArray dy) {
        LayerWorkspaceMgr none = LayerWorkspaceMgr.noWorkspaces();
        layer.setInput(x, none);
        INDArray out = layer.activate(true, none).dup();
        INDArray dx = layer.backpropGradient(dy.dup(), none).getSecond().dup();
        return new INDArray[]{out, dx};
    }

    @Test
    void takesOnlyPlainRectifiers() {
        assertTrue(RectifierLayer.takes(new ActivationReLU()));
        assertFalse(RectifierLayer.takes(new ActivationReLU(null, 0.5, null)), "a thresholded ReLU is DL4J's");
        assertFalse(RectifierLayer.takes(new ActivationReLU(null, null, 0.1)), "a leaky ReLU is DL4J's");
        assertFalse(RectifierLayer.takes(Activation.TANH.getActivationFunction()));
    }

    @Test
    void zooGraphsTrainTheirRectifiersWithIt() {
        ComputationGraph net = ModelRegistry.get("mobilenet_v2").build(ModelConfig.of(10, 3, 32, 32));
        long rectifiers = 0, stock = 0;
        for (Layer layer : net.getLayers()) {
            if (layer instanceof RectifierLayer) {
                rectifiers++;
            } else if (layer.getClass() == org.deeplearning4j.nn.layers.ActivationLayer.class) {
                stock++;
            }
        }
        assertTrue(rectifiers > 30, "mobilenet_v2's ReLU6 layers: " + rectifiers);
        assertEquals(0, stock, "activation layers left to DL4J");
        for (Layer layer : net.getLayers()) {
            assertTrue(net.getVertex(layer.conf().getLayer().getLayerName()).getLayer() == layer,
                    "the graph's layer list and its vertices hold the same layer " + layer.conf().getLayer().getLayerName());
        }
    }

    /** {@link Rectifier}'s derivative against DL4J's {@code ActivationReLU}, on the same kinks. */
    @Test
    void rectifierMatchesDl4jsReluDerivative() {
        Random random = new Random(5);
        long[] shape = {4, 6, 33, 35};
        int length = 4 * 6 * 33 * 35;
        float[] kinks = {0f, -0f, Math.nextUp(0f), Math.nextDown(0f)};
        float[] xs = new float[length], dys = new float[length];
        for (int i = 0; i < length; i++) {
            xs[i] = i % 5 == 0 ? kinks[(i / 5) % kinks.length] : (float) (random.nextGaussian() * 5);
            dys[i] = (float) random.nextGaussian();
        }
        INDArray dy = Nd4j.create(dys, shape, 'c');
        INDArray stock = new ActivationReLU().backprop(Nd4j.create(xs, shape, 'c'), dy.dup()).getFirst();
        INDArray fast = new Rectifier().backprop(Nd4j.create(xs, shape, 'c'), dy.dup()).getFirst();
        for (int i = 0; i < length; i++) {
            assertTrue(stock.getFloat(i) == fast.getFloat(i), "at x = " + xs[i] + ": " + stock.getFloat(i) + " against " + fast.getFloat(i));
        }
        INDArray z = Nd4j.create(xs, shape, 'c');
        assertEquals(new ActivationReLU().getActivation(z.dup(), true), new Rectifier().getActivation(z.dup(), true), "the forward is DL4J's");
    }

    /** lenet5's convolutions and dense layers run the Rectifier; its saved configuration still names DL4J's ReLU. */
    @Test
    void zooGraphsGiveTheirReluLayersTheRectifierAndSaveDl4jsActivation() {
        ComputationGraph net = ModelRegistry.get("lenet5").build(ModelConfig.of(10, 1, 28, 28));
        long rectifiers = 0;
        for (Layer layer : net.getLayers()) {
            org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
            if (conf instanceof org.deeplearning4j.nn.conf.layers.BaseLayer
                    && ((org.deeplearning4j.nn.conf.layers.BaseLayer) conf).getActivationFn() instanceof Rectifier) {
                rectifiers++;
            }
        }
        assertEquals(4, rectifiers, "lenet5's two convolutions and two hidden dense layers");
        String json = net.getConfiguration().toJson();
        assertFalse(json.contains(Rectifier.class.getName()), "the saved configuration is plain DL4J");
        assertTrue(json.contains(ActivationReLU.class.getName()));
    }
}
