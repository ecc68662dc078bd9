package org.sparkzoo.models.training;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.AlgoMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdDataAlgo;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdFilterAlgo;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The backward pass of a convolution that reads the network's input: the weight and bias gradients only. Nothing
 * consumes the gradient with respect to the input images, but DL4J's oneDNN helper computes it anyway (libnd4j's
 * {@code conv2d_bp} always runs oneDNN's backward-data primitive), and with one or three input channels that
 * primitive is oneDNN's slowest: 2.7 ms of lenet5's 11 ms step at batch 64 on two cores, 21 ms of densenet121's
 * step for its 7x7/2 stem at 16x112.
 *
 * <p>With {@link OneDnnConvHelper}'s oneDNN (the default) this runs its backward-weights primitive alone, at any
 * stride. Under {@code -Dsparkzoo.conv=libnd4j}, for stride 1, the weight gradient dW[o, i, kh, kw] = sum over n,
 * y, x of dy[n, o, y, x] * in[n, i, y + kh - p, x + kw - p] is itself a convolution: of the input with channels and
 * batch swapped ([C_in, N, H, W]) by the output gradient as its kernels ([C_out, N, H_out, W_out]), padded as the
 * layer is; its output is [C_in, C_out, kH, kW], run as libnd4j's forward convolution (3x faster than the backward
 * pass for lenet5's first layer); strided, dilated and other layouts go to DL4J's helper. {@link ZooGraph} installs
 * this only where a layer's inputs are all network inputs, with no preprocessor and no dropout, so that the missing
 * input gradient (null, as DL4J's embedding layers return) reaches only the input vertex.
 */
public final class InputConvHelper extends OneDnnConvHelper {

    public InputConvHelper(DataType dataType) {
        super(dataType);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray weights, INDArray bias, INDArray delta,
                                                     int[] kernel, int[] strides, int[] pad, INDArray biasGradView,
                                                     INDArray weightGradView, IActivation afn, AlgoMode mode,
                                                     BwdFilterAlgo bwdFilterAlgo, BwdDataAlgo bwdDataAlgo,
                                                     ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format,
                                                     LayerWorkspaceMgr workspaceMgr) {
        Plan plan = plan(input, weights, kernel, strides, pad, convolutionMode, dilation, format);
        if (plan != null) {   // oneDNN 2.5's backward-weights pass alone, any stride
            backward(plan, input, weights, delta, null, weightGradView, bias != null ? biasGradView : null);
            return new Pair<>(gradient(weightGradView, bias != null ? biasGradView : null), null);
        }
        int[] padding = padding(kernel, strides, pad, dilation, convolutionMode);
        if (padding == null || format != CNN2DFormat.NCHW || input.dataType() != DataType.FLOAT
                || weights.dataType() != DataType.FLOAT || input.rank() != 4) {
            return super.backpropGradient(input, weights, bias, delta, kernel, strides, pad, biasGradView, weightGradView,
                    afn, mode, bwdFilterAlgo, bwdDataAlgo, convolutionMode, dilation, format, workspaceMgr);
        }
        long n = input.size(0), in = input.size(1), out = delta.size(1);
        long outH = delta.size(2), outW = delta.size(3);
        INDArray images = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, DataType.FLOAT, in, n, input.size(2), input.size(3));
        images.assign(input.permute(1, 0, 2, 3));
        INDArray kernels = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, DataType.FLOAT, out, n, outH, outW);
        kernels.assign(delta.permute(1, 0, 2, 3));
        INDArray swapped = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, DataType.FLOAT, in, out, kernel[0], kernel[1]);
        Nd4j.exec(DynamicCustomOp.builder("conv2d")
                .addInputs(images, kernels)
                .addOutputs(swapped)
                .addIntegerArguments((int) outH, (int) outW, 1, 1, padding[0], padding[1], 1, 1, 0, 0, 1) // kernel, stride, pad, dilation, valid, NCHW, [oC, iC, kH, kW]
                .build());
        weightGradView.assign(swapped.permute(1, 0, 2, 3));
        if (biasGradView != null) {
            biasGradView.assign(delta.sum(0, 2, 3).reshape(biasGradView.shape()));
        }
        return new Pair<>(gradient(weightGradView, biasGradView), null);
    }

    /** The symmetric padding of a stride-1, undilated convolution, or null where this helper does not apply. */
    static int[] padding(int[] kernel, int[] strides, int[] pad, int[] dilation, ConvolutionMode mode) {
        if (strides[0] != 1 || strides[1] != 1 || dilation[0] != 1 || dilation[1] != 1) {
            return null;
        }
        if (mode == ConvolutionMode.Same) {   // stride 1: (k - 1) / 2 each side, symmetric only for odd kernels
            return kernel[0] % 2 == 1 && kernel[1] % 2 == 1 ? new int[]{kernel[0] / 2, kernel[1] / 2} : null;
        }
        return mode == ConvolutionMode.Truncate || mode == ConvolutionMode.Strict ? pad : null;
    }
}
