package org.sparkzoo.models.blocks;

import org.nd4j.linalg.activations.Activation;

/**
 * Inception-ResNet-v2 pieces (Szegedy et al. 2017), laid out as Keras' inception_resnet_v2.py: conv - BN - ReLU
 * units, residual modules whose concatenated branches are projected back by a 1x1 conv with bias, scaled (0.17,
 * 0.1, 0.2) and added. Keras' BN there has no scale (gamma); DL4J's always does, see models/README.md.
 */
public final class InceptionResNet {
    private static final Activation RELU = Activation.RELU;

    private InceptionResNet() {
    }

    /** conv (stride 1, "same" padding) - BN - ReLU. */
    static String unit(Graph g, String x, int n, int kh, int kw) {
        return g.convBnAct(x, n, kh, kw, 1, kh / 2, kw / 2, RELU);
    }

    /** conv stride 2, no padding ("valid") - BN - ReLU. */
    static String reduce(Graph g, String x, int n) {
        return g.convBnAct(x, n, 3, 2, 0, RELU);
    }

    /** mixed_5b: the 35x35 Inception-A module that opens the network, 320 channels. */
    public static String mixed5b(Graph g, String x) {
        String b0 = unit(g, x, 96, 1, 1);
        String b1 = unit(g, unit(g, x, 48, 1, 1), 64, 5, 5);
        String b2 = unit(g, unit(g, unit(g, x, 64, 1, 1), 96, 3, 3), 96, 3, 3);
        String bp = unit(g, g.avgPool(x, 3, 1, 1), 64, 1, 1);
        return g.concat(b0, b1, b2, bp);
    }

    /** block35 (Inception-ResNet-A), on 35x35 x 320. */
    public static String block35(Graph g, String x, int channels, double scale) {
        String b0 = unit(g, x, 32, 1, 1);
        String b1 = unit(g, unit(g, x, 32, 1, 1), 32, 3, 3);
        String b2 = unit(g, unit(g, unit(g, x, 32, 1, 1), 48, 3, 3), 64, 3, 3);
        return residual(g, x, g.concat(b0, b1, b2), channels, scale, true);
    }

    /** mixed_6a (Reduction-A): 35 -> 17, 1088 channels. */
    public static String mixed6a(Graph g, String x) {
        String b0 = reduce(g, x, 384);
        String b1 = reduce(g, unit(g, unit(g, x, 256, 1, 1), 256, 3, 3), 384);
        return g.concat(b0, b1, g.maxPool(x, 3, 2, 0));
    }

    /** block17 (Inception-ResNet-B), on 17x17 x 1088: 1x1 | 1x1 -> 1x7 -> 7x1. */
    public static String block17(Graph g, String x, int channels, double scale) {
        String b0 = unit(g, x, 192, 1, 1);
        String b1 = unit(g, unit(g, unit(g, x, 128, 1, 1), 160, 1, 7), 192, 7, 1);
        return residual(g, x, g.concat(b0, b1), channels, scale, true);
    }

    /** mixed_7a (Reduction-B): 17 -> 8, 2080 channels. */
    public static String mixed7a(Graph g, String x) {
        String b0 = reduce(g, unit(g, x, 256, 1, 1), 384);
        String b1 = reduce(g, unit(g, x, 256, 1, 1), 288);
        String b2 = reduce(g, unit(g, unit(g, x, 256, 1, 1), 288, 3, 3), 320);
        return g.concat(b0, b1, b2, g.maxPool(x, 3, 2, 0));
    }

    /** block8 (Inception-ResNet-C), on 8x8 x 2080: 1x1 | 1x1 -> 1x3 -> 3x1; the last one has no ReLU. */
    public static String block8(Graph g, String x, int channels, double scale, boolean relu) {
        String b0 = unit(g, x, 192, 1, 1);
        String b1 = unit(g, unit(g, unit(g, x, 192, 1, 1), 224, 1, 3), 256, 3, 1);
        return residual(g, x, g.concat(b0, b1), channels, scale, relu);
    }

    private static String residual(Graph g, String x, String mixed, int channels, double scale, boolean relu) {
        String up = g.conv(mixed, channels, 1, 1, 1, 1, 0, 0, Activation.IDENTITY, true);
        String sum = g.add(x, g.scale(up, scale));
        return relu ? g.activation(sum, RELU) : sum;
    }
}
