package org.sparkzoo.jobs.explain;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelRegistry;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Class maps and the deconvnet against loops written from their definitions. Bounds are the worst case of float
 * summation, (terms + 1) * 2^-24 * sum of |terms| per entry: what rounding allows, whatever the summation order.
 */
class ExplainTest {
    private static final double U = Math.pow(2, -24);

    private static ComputationGraph net(String model, int channels, int size, long seed) {
        ComputationGraph net = ModelRegistry.get(model).build(ModelConfig.of(10, channels, size, size).withSeed(seed));
        return net;
    }

    private static INDArray image(int channels, int size, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.FLOAT, 1, channels, size, size);
    }

    @Test
    void planFollowsTheHead() {
        assertEquals(ClassMaps.CAM, ClassMaps.plan(net("resnet18", 1, 32, 1).getConfiguration(), InputType.convolutional(32, 32, 1)).method);
        assertEquals(ClassMaps.GRAD_CAM, ClassMaps.plan(net("lenet5", 1, 28, 1).getConfiguration(), InputType.convolutional(28, 28, 1)).method);
        ComputationGraphConfiguration zf = ModelRegistry.get("zfnet").build(ModelConfig.of(10, 3, 64, 64)).getConfiguration();
        assertEquals(ClassMaps.GRAD_CAM, ClassMaps.plan(zf, InputType.convolutional(64, 64, 3)).method);
        assertEquals(5, Deconvnet.convLayers(Deconvnet.chain(zf)).size(), "zfnet's five convolutions: " + Deconvnet.chain(zf));
        assertTrue(Deconvnet.chain(ModelRegistry.get("resnet18").configuration(ModelConfig.of(10, 1, 32, 32))).isEmpty(),
                "resnet18's stem has batch norm: no plain conv chain");
    }

    /** map_c[i][j] = sum_k W[k][c] * A[k][i][j], in double, from the network's own activations and classifier weights. */
    @Test
    void camEqualsTheClassifierWeightsTimesTheLastFeatureMaps() {
        ComputationGraph net = net("resnet18", 1, 32, 7);
        InputType in = InputType.convolutional(32, 32, 1);
        ClassMaps.Explainer explainer = new ClassMaps.Explainer(net, in);
        assertEquals(ClassMaps.CAM, explainer.plan.method);
        INDArray x = image(1, 32, 3);
        float[][][] maps = explainer.maps(x, 2, 7);
        INDArray a = net.feedForward(x, false).get(explainer.plan.features);
        INDArray w = net.getLayer(explainer.plan.classifier).getParam("W");
        int k = (int) a.size(1), h = (int) a.size(2), wd = (int) a.size(3);
        int[] classes = {2, 7};
        for (int n = 0; n < classes.length; n++) {
            double scale = 0;
            for (int i = 0; i < h; i++) {
                for (int j = 0; j < wd; j++) {
                    double sum = 0, abs = 0;
                    for (int c = 0; c < k; c++) {
                        double t = w.getDouble(c, classes[n]) * a.getDouble(0, c, i, j);
                        sum += t;
                        abs += Math.abs(t);
                    }
                    scale = Math.max(scale, Math.abs(sum));
                    assertEquals(sum, maps[n][i][j], (k + 1) * U * abs, "CAM at (" + i + "," + j + ") of class " + classes[n]);
                }
            }
            assertTrue(scale > 0, "a map of zeros proves nothing");
        }
    }

    /**
     * With global average pooling before the classifier, dz_c/dA_kij = W[k][c] / (h w) exactly, so Grad-CAM's weights
     * are the classifier's divided by h w and Grad-CAM = ReLU(CAM) / (h w): Grad-CAM's backprop checked against CAM.
     */
    @Test
    void gradCamOfAGapModelIsReluOfCamOverTheMapArea() {
        int size = 96; // resnet18's last maps are 3x3 here: h w = 9, not 1
        ComputationGraph net = net("resnet18", 1, size, 11);
        InputType in = InputType.convolutional(size, size, 1);
        ClassMaps.Plan cam = ClassMaps.plan(net.getConfiguration(), in);
        ClassMaps.Explainer grad = new ClassMaps.Explainer(net, new ClassMaps.Plan(ClassMaps.GRAD_CAM, cam.features, null));
        ClassMaps.Explainer direct = new ClassMaps.Explainer(net, in);
        INDArray x = image(1, size, 5);
        INDArray a = net.feedForward(x, false).get(cam.features);
        INDArray w = net.getLayer(cam.classifier).getParam("W");
        int positive = 0;
        for (int c = 0; c < 10; c++) {
            float[][] g = grad.maps(x, c)[0];
            float[][] m = direct.maps(x, c)[0];
            int k = (int) a.size(1), hw = g.length * g[0].length;
            assertEquals(9, hw);
            double max = 0;
            for (int i = 0; i < g.length; i++) {
                for (int j = 0; j < g[0].length; j++) {
                    double abs = 0;
                    for (int ch = 0; ch < k; ch++) {
                        abs += Math.abs(w.getDouble(ch, c) * a.getDouble(0, ch, i, j));
                    }
                    double expected = Math.max(0, m[i][j]) / hw;
                    max = Math.max(max, expected);
                    // both sides round: CAM's sum, and Grad-CAM's mean of hw gradients then its own sum
                    assertEquals(expected, g[i][j], 2 * (k + hw + 2) * U * abs / hw, "Grad-CAM at (" + i + "," + j + ") of class " + c);
                }
            }
            positive += max > 0 ? 1 : 0;
        }
        assertTrue(positive >= 3, "only " + positive + " classes with a positive map: too few to prove anything");
    }

    /** One conv layer [oC, iC, k, k], stride 2, padding 1, ReLU, then a classifier: the smallest deconvnet. */
    private static ComputationGraph oneConv() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).weightInit(WeightInit.RELU)
                .convolutionMode(ConvolutionMode.Truncate).graphBuilder().addInputs("input")
                .setInputTypes(InputType.convolutional(9, 9, 2))
                .addLayer("conv", new ConvolutionLayer.Builder(3, 3).stride(2, 2).padding(1, 1).nOut(4).activation(Activation.RELU).build(), "input")
                .addLayer("pool", new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX, new int[]{2, 2}, new int[]{2, 2}).build(), "conv")
                .addLayer("output", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("output").build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        return net;
    }

    /** The reconstruction of the top activation equals value * filter placed at its receptive field, by loops. */
    @Test
    void deconvnetOfOneConvLayerIsTheTransposedConvolutionOfTheOneHotMap() {
        ComputationGraph net = oneConv();
        List<Deconvnet.Step> chain = Deconvnet.chain(net.getConfiguration());
        assertEquals(List.of("conv", "pool"), chain.stream().map(Deconvnet.Step::vertex).toList());
        INDArray x = image(2, 9, 8);
        Map<String, INDArray> acts = net.feedForward(x, false);
        INDArray r = Deconvnet.reconstruct(net, chain, x, acts, "conv");
        INDArray a = acts.get("conv");
        INDArray w = net.getLayer("conv").getParam("W");
        int bk = 0, bi = 0, bj = 0;
        for (int k = 0; k < a.size(1); k++) {
            for (int i = 0; i < a.size(2); i++) {
                for (int j = 0; j < a.size(3); j++) {
                    if (a.getDouble(0, k, i, j) > a.getDouble(0, bk, bi, bj)) {
                        bk = k; bi = i; bj = j;
                    }
                }
            }
        }
        double v = a.getDouble(0, bk, bi, bj);
        assertTrue(v > 0);
        for (int c = 0; c < 2; c++) {
            for (int y = 0; y < 9; y++) {
                for (int xx = 0; xx < 9; xx++) {
                    int ky = y - (bi * 2 - 1), kx = xx - (bj * 2 - 1);
                    double expected = ky >= 0 && ky < 3 && kx >= 0 && kx < 3 ? v * w.getDouble(bk, c, ky, kx) : 0;
                    assertEquals(expected, r.getDouble(0, c, y, xx), 2 * U * Math.abs(expected), "pixel (" + c + "," + y + "," + xx + ")");
                }
            }
        }
    }

    /** A dense signal through the transposed convolution against the definition: every output sums its contributions. */
    @Test
    void transposedConvolutionOfADenseSignalMatchesLoops() {
        Nd4j.getRandom().setSeed(21);
        INDArray w = Nd4j.randn(DataType.FLOAT, 3, 2, 3, 3);
        INDArray s = Nd4j.randn(DataType.FLOAT, 1, 3, 4, 4);
        int stride = 2, pad = 1, height = 8, width = 8;
        INDArray r = Deconvnet.transposedConv(s, w, new int[]{stride, stride}, new int[]{pad, pad}, height, width);
        double[][][] sum = new double[2][height][width], abs = new double[2][height][width];
        for (int k = 0; k < 3; k++) {
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < 4; j++) {
                    for (int c = 0; c < 2; c++) {
                        for (int ky = 0; ky < 3; ky++) {
                            for (int kx = 0; kx < 3; kx++) {
                                int y = i * stride - pad + ky, x = j * stride - pad + kx;
                                if (y >= 0 && y < height && x >= 0 && x < width) {
                                    double t = s.getDouble(0, k, i, j) * w.getDouble(k, c, ky, kx);
                                    sum[c][y][x] += t;
                                    abs[c][y][x] += Math.abs(t);
                                }
                            }
                        }
                    }
                }
            }
        }
        for (int c = 0; c < 2; c++) {
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    assertEquals(sum[c][y][x], r.getDouble(0, c, y, x), (3 * 9 + 1) * U * abs[c][y][x], "(" + c + "," + y + "," + x + ")");
                }
            }
        }
    }

    /** Unpooling sends each value to the arg-max of its window (padding excluded) and nowhere else. */
    @Test
    void unpoolingUsesTheSwitches() {
        INDArray in = Nd4j.create(new float[]{
                1, 5, 2, 0,
                3, 4, 9, 1,
                0, 8, 2, 7,
                6, 1, 3, 2}, new long[]{1, 1, 4, 4}, 'c');
        INDArray s = Nd4j.create(new float[]{10, 20, 30, 40}, new long[]{1, 1, 2, 2}, 'c');
        INDArray out = Deconvnet.unpool(s, in, new int[]{2, 2}, new int[]{2, 2}, new int[]{0, 0});
        float[] expected = {
                0, 10, 0, 0,
                0, 0, 20, 0,
                0, 30, 0, 40,
                0, 0, 0, 0};
        assertEquals(Nd4j.create(expected, new long[]{1, 1, 4, 4}, 'c'), out);
        // 3x3 windows, stride 2, padding 1 (ZFNet's pools): the window of output (0,0) is rows/cols 0..1
        INDArray padded = Deconvnet.unpool(Nd4j.create(new float[]{1, 0, 0, 0}, new long[]{1, 1, 2, 2}, 'c'), in,
                new int[]{3, 3}, new int[]{2, 2}, new int[]{1, 1});
        assertEquals(1f, padded.getFloat(0, 0, 0, 1), "arg-max of {1,5,3,4} is the 5");
        assertEquals(1.0, padded.sumNumber().doubleValue());
    }
}
