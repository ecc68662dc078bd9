package org.sparkzoo.models.training;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.AlgoMode;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelRegistry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link OneDnnConvHelper} (oneDNN 2.5, called directly) against DL4J's helper (libnd4j's oneDNN 2.3): the forward
 * output, the input gradient and the weight and bias gradients of the convolutions the zoo uses (1x1, 3x3, strided,
 * the 7x7/2 stem with a bias, Same padding that is asymmetric), with the weights and their gradient as views
 * at an offset in a larger array, as DL4J's parameter views are. The two sum the same products in different orders,
 * so they agree to float rounding of sums of k*k*C_in (or N*H*W) terms; a wrong padding, offset or layout is off by
 * O(1). Whole networks are held to a double-precision reference in {@code OneDnnHelpersTest}.
 */
class OneDnnConvHelperTest {
    /** Relative (Frobenius) bound: float rounding of the sums, far below what a wrong index gives. */
    private static final double BOUND = 1e-5;

    @AfterEach
    void clear() {
        System.clearProperty(OneDnnConvHelper.CONV_PROPERTY);
    }

    @Test
    void matchesDl4jsHelperOnTheZoosConvolutions() {
        //      n, cIn, h, w, cOut, k, stride, pad, dilation, bias, mode
        check(4, 64, 14, 14, 32, 1, 1, 0, 1, false, ConvolutionMode.Truncate);
        check(4, 32, 15, 15, 24, 3, 1, 1, 1, false, ConvolutionMode.Truncate);
        check(4, 32, 15, 15, 24, 3, 2, 1, 1, false, ConvolutionMode.Truncate);
        check(4, 32, 16, 16, 48, 1, 2, 0, 1, false, ConvolutionMode.Truncate);   // ResNet's shortcut: the last row unread
        check(2, 3, 32, 32, 16, 7, 2, 3, 1, true, ConvolutionMode.Truncate);
        check(2, 16, 14, 14, 16, 3, 2, 0, 1, true, ConvolutionMode.Same);   // Same at stride 2: 0 top-left, 1 bottom-right
    }

    private static void check(int n, int cIn, int h, int w, int cOut, int k, int s, int p, int d, boolean bias, ConvolutionMode mode) {
        String what = n + "x" + cIn + "x" + h + "x" + w + " -> " + cOut + ", " + k + "x" + k + "/" + s + " pad " + p + " dilation " + d + " " + mode + (bias ? " +bias" : "");
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.rand(DataType.FLOAT, n, cIn, h, w).subi(0.5);
        INDArray params = Nd4j.rand(DataType.FLOAT, 1, 7 + cOut * cIn * k * k + cOut).subi(0.5);
        INDArray weights = params.get(NDArrayIndex.point(0), NDArrayIndex.interval(7, 7 + cOut * cIn * k * k)).reshape('c', cOut, cIn, k, k);
        INDArray b = bias ? params.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(7 + cOut * cIn * k * k, 7 + cOut * cIn * k * k + cOut)) : null;
        assertTrue(weights.offset() > 0, "the weights must be a view at an offset, as DL4J's parameters are");
        int[] kernel = {k, k}, strides = {s, s}, pad = {p, p}, dilation = {d, d};
        LayerWorkspaceMgr none = LayerWorkspaceMgr.noWorkspaces();

        MKLDNNConvHelper stock = new MKLDNNConvHelper(DataType.FLOAT);
        OneDnnConvHelper direct = new OneDnnConvHelper(DataType.FLOAT);
        INDArray yStock = stock.preOutput(x, weights, b, kernel, strides, pad, AlgoMode.PREFER_FASTEST, null, mode, dilation, CNN2DFormat.NCHW, none);
        INDArray yDirect = direct.preOutput(x, weights, b, kernel, strides, pad, AlgoMode.PREFER_FASTEST, null, mode, dilation, CNN2DFormat.NCHW, none);
        assertEquals(java.util.Arrays.toString(yStock.shape()), java.util.Arrays.toString(yDirect.shape()), what);
        close(yDirect, yStock, what + ": output");

        INDArray dy = Nd4j.rand(DataType.FLOAT, yStock.shape()).subi(0.5);
        Pair<INDArray, INDArray[]> gStock = backward(stock, x, weights, b, dy, kernel, strides, pad, mode, dilation, cOut, cIn, k);
        Pair<INDArray, INDArray[]> gDirect = backward(direct, x, weights, b, dy, kernel, strides, pad, mode, dilation, cOut, cIn, k);
        close(gDirect.getFirst(), gStock.getFirst(), what + ": input gradient");
        close(gDirect.getSecond()[0], gStock.getSecond()[0], what + ": weight gradient");
        if (bias) {
            close(gDirect.getSecond()[1], gStock.getSecond()[1], what + ": bias gradient");
        }
        for (int i = 0; i < 7; i++) {
            assertEquals(0f, gDirect.getSecond()[2].getFloat(i), 0f, what + ": the gradient array before the weights' view must be untouched");
        }
    }

    /** The input gradient, and {weight gradient, bias gradient, the whole gradient array} with the views at an offset. */
    private static Pair<INDArray, INDArray[]> backward(MKLDNNConvHelper helper, INDArray x, INDArray weights, INDArray b, INDArray dy,
                                                       int[] kernel, int[] strides, int[] pad, ConvolutionMode mode, int[] dilation,
                                                       int cOut, int cIn, int k) {
        INDArray grads = Nd4j.zeros(DataType.FLOAT, 1, 7 + cOut * cIn * k * k + cOut);
        INDArray wGrad = grads.get(NDArrayIndex.point(0), NDArrayIndex.interval(7, 7 + cOut * cIn * k * k)).reshape('c', cOut, cIn, k, k);
        INDArray bGrad = b == null ? null : grads.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(7 + cOut * cIn * k * k, 7 + cOut * cIn * k * k + cOut));
        Pair<Gradient, INDArray> result = helper.backpropGradient(x, weights, b, dy, kernel, strides, pad, bGrad, wGrad,
                new ActivationIdentity(), AlgoMode.PREFER_FASTEST, null, null, mode, dilation, CNN2DFormat.NCHW, LayerWorkspaceMgr.noWorkspaces());
        return new Pair<>(result.getSecond().dup(), new INDArray[]{wGrad.dup(), bGrad == null ? null : bGrad.dup(), grads});
    }

    private static void close(INDArray actual, INDArray expected, String what) {
        double rel = actual.sub(expected).norm2Number().doubleValue() / expected.norm2Number().doubleValue();
        assertTrue(rel < BOUND, what + ": relative difference " + rel);
    }

    @Test
    void zooGraphsConvolveWithItUnlessAskedForLibnd4j() {
        ComputationGraph net = ModelRegistry.get("resnet18").build(ModelConfig.of(10, 3, 32, 32));
        long direct = count(net, OneDnnConvHelper.class), stock = count(net, MKLDNNConvHelper.class);
        assertEquals(19, direct, "resnet18's convolutions but its stem, on oneDNN 2.5");
        assertEquals(1, count(net, InputConvHelper.class), "resnet18's stem, whose backward skips the images' gradient");
        assertEquals(0, stock, "convolutions left to DL4J's helper");
        System.setProperty(OneDnnConvHelper.CONV_PROPERTY, "libnd4j");
        ComputationGraph libnd4j = ModelRegistry.get("resnet18").build(ModelConfig.of(10, 3, 32, 32));
        assertEquals(0, count(libnd4j, OneDnnConvHelper.class), "-Dsparkzoo.conv=libnd4j keeps DL4J's helper");
        assertTrue(count(libnd4j, MKLDNNConvHelper.class) >= 19, "DL4J's helper in resnet18's convolutions");
        INDArray in = Nd4j.rand(DataType.FLOAT, 2, 3, 32, 32);
        libnd4j.setParams(net.params());
        INDArray a = net.outputSingle(false, in), b = libnd4j.outputSingle(false, in);
        double rel = a.sub(b).norm2Number().doubleValue() / b.norm2Number().doubleValue();
        assertTrue(rel < 1e-4, "resnet18's output, oneDNN 2.5 against libnd4j (20 layers of float rounding): " + rel);
    }

    private static long count(ComputationGraph net, Class<?> helper) {
        long c = 0;
        for (Layer layer : net.getLayers()) {
            if (layer instanceof ConvolutionLayer && ((ConvolutionLayer) layer).getHelper() != null
                    && ((ConvolutionLayer) layer).getHelper().getClass() == helper) {
                c++;
            }
        }
        return c;
    }

    /**
     * DL4J's convolution layer hands a layer without a bias a zero "dummy" bias in the forward and none in the
     * backward: one plan must serve both (a plan keyed on the bias was made afresh at every call, primitives and all).
     */
    @Test
    void aLayerWithoutBiasKeepsOnePlanAcrossItsForwardAndBackward() {
        OneDnnConvHelper direct = new OneDnnConvHelper(DataType.FLOAT);
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 8, 10, 10), weights = Nd4j.rand(DataType.FLOAT, 16, 8, 3, 3);
        int[] kernel = {3, 3}, strides = {1, 1}, pad = {1, 1}, dilation = {1, 1};
        LayerWorkspaceMgr none = LayerWorkspaceMgr.noWorkspaces();
        INDArray y = direct.preOutput(x, weights, Nd4j.zeros(DataType.FLOAT, 1, 16), kernel, strides, pad,
                AlgoMode.PREFER_FASTEST, null, ConvolutionMode.Truncate, dilation, CNN2DFormat.NCHW, none);
        OneDnnConvHelper.Plan forward = direct.plan(x, weights, kernel, strides, pad, ConvolutionMode.Truncate, dilation, CNN2DFormat.NCHW);
        direct.backpropGradient(x, weights, null, Nd4j.onesLike(y), kernel, strides, pad, null, Nd4j.zeros(DataType.FLOAT, 16, 8, 3, 3),
                new ActivationIdentity(), AlgoMode.PREFER_FASTEST, null, null, ConvolutionMode.Truncate, dilation, CNN2DFormat.NCHW, none);
        assertTrue(forward == direct.plan(x, weights, kernel, strides, pad, ConvolutionMode.Truncate, dilation, CNN2DFormat.NCHW),
                "the backward without a bias made a new plan after the forward with DL4J's zero bias");
    }

    @Test
    void otherLayoutsAndDilatedKernelsGoToDl4jsHelper() {
        OneDnnConvHelper direct = new OneDnnConvHelper(DataType.FLOAT);
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 6, 6, 4);   // NHWC
        INDArray weights = Nd4j.rand(DataType.FLOAT, 8, 4, 3, 3);
        assertNull(direct.plan(x, weights, new int[]{3, 3}, new int[]{1, 1}, new int[]{1, 1},
                ConvolutionMode.Truncate, new int[]{1, 1}, CNN2DFormat.NHWC));
        INDArray nchw = Nd4j.rand(DataType.FLOAT, 2, 4, 9, 9);
        assertNull(direct.plan(nchw, weights, new int[]{3, 3}, new int[]{1, 1}, new int[]{2, 2},
                ConvolutionMode.Truncate, new int[]{2, 2}, CNN2DFormat.NCHW), "dilated");
        assertTrue(direct.plan(nchw, weights, new int[]{3, 3}, new int[]{1, 1}, new int[]{1, 1},
                ConvolutionMode.Truncate, new int[]{1, 1}, CNN2DFormat.NCHW) != null);
    }
}
