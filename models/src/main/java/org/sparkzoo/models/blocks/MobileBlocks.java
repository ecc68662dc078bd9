package org.sparkzoo.models.blocks;

import org.nd4j.linalg.activations.Activation;

/** Blocks of the efficient-network line: depthwise separable (MobileNet), inverted residual (MobileNetV2), fire (SqueezeNet). */
public final class MobileBlocks {
    private MobileBlocks() {
    }

    /**
     * MobileNet v1 depthwise separable unit: 3x3 depthwise - BN - ReLU6 - 1x1 pointwise - BN - ReLU6, no biases. A
     * stride-2 unit pads only bottom/right first, as Keras' MobileNet does ("same" padding of TensorFlow).
     */
    public static String depthwiseSeparable(Graph g, String x, int pointwiseFilters, int stride) {
        String y = stride == 1 ? g.depthwiseConv(x, 3, 1, 1, false) : g.depthwiseConv(g.zeroPad(x, 0, 1, 0, 1), 3, stride, 0, false);
        y = g.bnAct(y, Activation.RELU6);
        y = g.conv(y, pointwiseFilters, 1, 1, 1, 1, 0, 0, Activation.IDENTITY, false);
        return g.bnAct(y, Activation.RELU6);
    }

    /**
     * MobileNetV2 inverted residual: 1x1 expansion (x expandRatio, skipped at 1) - BN - ReLU6 - 3x3 depthwise (stride) -
     * BN - ReLU6 - 1x1 linear projection - BN, plus the input when stride 1 and channels match.
     */
    public static String invertedResidual(Graph g, String x, int inChannels, int outChannels, int stride, int expandRatio) {
        int hidden = inChannels * expandRatio;
        String y = x;
        if (expandRatio != 1) {
            y = g.convBnAct(y, hidden, 1, 1, 0, Activation.RELU6);
        }
        y = g.bnAct(g.depthwiseConv(y, 3, stride, 1, false), Activation.RELU6);
        y = g.convBn(y, outChannels, 1, 1, 0);
        return stride == 1 && inChannels == outChannels ? g.add(x, y) : y;
    }

    /** SqueezeNet fire module: 1x1 squeeze - ReLU, then 1x1 and 3x3 expand (each ReLU), concatenated. */
    public static String fire(Graph g, String x, int squeeze, int expand1x1, int expand3x3) {
        String s = g.conv(x, squeeze, 1, 1, 0, Activation.RELU);
        String e1 = g.conv(s, expand1x1, 1, 1, 0, Activation.RELU);
        String e3 = g.conv(s, expand3x3, 3, 1, 1, Activation.RELU);
        return g.concat(e1, e3);
    }

    /** Separable conv (no bias) - BN, "same" padding: the unit of Xception. */
    public static String separableBn(Graph g, String x, int filters, int kernel) {
        return g.batchNorm(g.separableConv(x, filters, kernel, 1, kernel / 2, false));
    }
}
