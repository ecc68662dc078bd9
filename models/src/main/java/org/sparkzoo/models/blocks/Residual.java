package org.sparkzoo.models.blocks;

import org.nd4j.linalg.activations.Activation;

/**
 * Residual units of the ResNet family (He et al. 2016a/b, Zagoruyko and Komodakis 2016, Hu et al. 2018), written
 * once and shared by every ResNet-like model. Each returns the name of the block's output. {@code dropPath} is the
 * stochastic-depth drop probability of this block's residual branch (0 = off).
 */
public final class Residual {
    private Residual() {
    }

    /** BasicBlock: 3x3 (stride) - BN - ReLU - 3x3 - BN, plus the shortcut (1x1 conv + BN when the shape changes), ReLU. */
    public static String basic(Graph g, String x, int inChannels, int planes, int stride, double dropPath) {
        String r = g.convBnAct(x, planes, 3, stride, 1, Activation.RELU);
        r = g.convBn(r, planes, 3, 1, 1);
        r = g.dropPath(r, dropPath);
        return g.activation(g.add(r, shortcut(g, x, inChannels, planes, stride)), Activation.RELU);
    }

    /**
     * Bottleneck: 1x1 (width) - 3x3 (width, stride: torchvision's "v1.5") - 1x1 (outChannels), each with BN, ReLU
     * between; optionally squeeze-and-excitation on the branch before the addition (SE-ResNet); the shortcut is a
     * 1x1 conv + BN when the shape changes. Wide ResNets only change {@code width}.
     */
    public static String bottleneck(Graph g, String x, int inChannels, int width, int outChannels, int stride,
                                    int seReduction, double dropPath) {
        String r = g.convBnAct(x, width, 1, 1, 0, Activation.RELU);
        r = g.convBnAct(r, width, 3, stride, 1, Activation.RELU);
        r = g.convBn(r, outChannels, 1, 1, 0);
        if (seReduction > 0) {
            r = SqueezeExcite.gate(g, r, outChannels, seReduction);
        }
        r = g.dropPath(r, dropPath);
        return g.activation(g.add(r, shortcut(g, x, inChannels, outChannels, stride)), Activation.RELU);
    }

    /**
     * Pre-activation bottleneck (He et al. 2016b, "Identity Mappings"), laid out as TF-slim's resnet_v2 and Keras'
     * ResNet50V2: BN-ReLU first (shared by branch and projection shortcut), 1x1 - 3x3 (stride) - 1x1 with bias on
     * the last; the shortcut is a 1x1 conv with bias when {@code projection}, a strided subsampling when only the
     * resolution changes, else the identity. No activation after the addition.
     */
    public static String preActBottleneck(Graph g, String x, int filters, int stride, boolean projection, double dropPath) {
        String preact = g.bnAct(x, Activation.RELU);
        String s;
        if (projection) {
            s = g.conv(preact, 4 * filters, 1, 1, 1, 1, 0, 0, Activation.IDENTITY, true);
            if (stride != 1) {
                throw new IllegalArgumentException("projection shortcuts are stride 1 in this layout");
            }
        } else {
            s = stride > 1 ? g.maxPool(x, 1, stride, 0) : x;
        }
        String r = g.convBnAct(preact, filters, 1, 1, 0, Activation.RELU);
        r = g.convBnAct(r, filters, 3, stride, 1, Activation.RELU);
        r = g.conv(r, 4 * filters, 1, 1, 1, 1, 0, 0, Activation.IDENTITY, true);
        r = g.dropPath(r, dropPath);
        return g.add(s, r);
    }

    private static String shortcut(Graph g, String x, int inChannels, int outChannels, int stride) {
        return stride != 1 || inChannels != outChannels ? g.convBn(x, outChannels, 1, stride, 0) : x;
    }
}
