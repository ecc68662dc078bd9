package org.sparkzoo.models.blocks;

import org.nd4j.linalg.activations.Activation;

/**
 * Inception modules: GoogLeNet's (Szegedy et al. 2015) and Inception v3's factorized A-E (Szegedy et al. 2016),
 * with their auxiliary classifiers, laid out as torchvision's googlenet.py / inception.py. Every convolution is
 * torchvision's BasicConv2d: conv without bias - BN - ReLU.
 */
public final class Inception {
    private static final Activation RELU = Activation.RELU;

    private Inception() {
    }

    private static String unit(Graph g, String x, int n, int k) {
        return g.convBnAct(x, n, k, 1, k / 2, RELU);
    }

    private static String unit(Graph g, String x, int n, int kh, int kw) {
        return g.convBnAct(x, n, kh, kw, 1, kh / 2, kw / 2, RELU);
    }

    /**
     * GoogLeNet module: 1x1 | 1x1 -> 3x3 | 1x1 -> k x k | 3x3 max pool -> 1x1, concatenated. The paper's third branch
     * is 5x5; torchvision's (whose parameter count is the reference) is 3x3: {@code branch3Kernel} chooses.
     */
    public static String v1(Graph g, String x, int c1, int c3r, int c3, int c5r, int c5, int poolProj, int branch3Kernel) {
        String b1 = unit(g, x, c1, 1);
        String b2 = unit(g, unit(g, x, c3r, 1), c3, 3);
        String b3 = unit(g, unit(g, x, c5r, 1), c5, branch3Kernel);
        String b4 = unit(g, g.maxPool(x, 3, 1, 1), poolProj, 1);
        return g.concat(b1, b2, b3, b4);
    }

    /** GoogLeNet auxiliary head: adaptive 4x4 avg pool - 1x1 conv 128 - fc 1024 - ReLU - dropout 0.7 - softmax. */
    public static String v1Aux(Graph g, String x, String name, double lossWeight) {
        String y = unit(g, g.adaptiveAvgPool(x, 4), 128, 1);
        y = g.dense(y, 1024, RELU);
        y = g.classifierDropout(y, 0.7);
        return g.auxClassifier(y, name, lossWeight);
    }

    /** v3 35x35 module (InceptionA): 1x1 64 | 1x1 48 -> 5x5 64 | 1x1 64 -> 3x3 96 -> 3x3 96 | avg pool -> 1x1 poolFeatures. */
    public static String a(Graph g, String x, int poolFeatures) {
        String b1 = unit(g, x, 64, 1);
        String b5 = unit(g, unit(g, x, 48, 1), 64, 5);
        String b3 = unit(g, unit(g, unit(g, x, 64, 1), 96, 3), 96, 3);
        String bp = unit(g, g.avgPool(x, 3, 1, 1), poolFeatures, 1);
        return g.concat(b1, b5, b3, bp);
    }

    /** v3 grid reduction 35 -> 17 (InceptionB): 3x3/2 384 | 1x1 64 -> 3x3 96 -> 3x3/2 96 | 3x3/2 max pool. */
    public static String b(Graph g, String x) {
        String b3 = g.convBnAct(x, 384, 3, 2, 0, RELU);
        String bd = g.convBnAct(unit(g, unit(g, x, 64, 1), 96, 3), 96, 3, 2, 0, RELU);
        return g.concat(b3, bd, g.maxPool(x, 3, 2, 0));
    }

    /** v3 17x17 module with 7x7 factorized into 1x7 and 7x1 (InceptionC), c7 channels inside. */
    public static String c(Graph g, String x, int c7) {
        String b1 = unit(g, x, 192, 1);
        String b7 = unit(g, unit(g, unit(g, x, c7, 1), c7, 1, 7), 192, 7, 1);
        String bd = unit(g, x, c7, 1);
        bd = unit(g, bd, c7, 7, 1);
        bd = unit(g, bd, c7, 1, 7);
        bd = unit(g, bd, c7, 7, 1);
        bd = unit(g, bd, 192, 1, 7);
        String bp = unit(g, g.avgPool(x, 3, 1, 1), 192, 1);
        return g.concat(b1, b7, bd, bp);
    }

    /** v3 grid reduction 17 -> 8 (InceptionD). */
    public static String d(Graph g, String x) {
        String b3 = g.convBnAct(unit(g, x, 192, 1), 320, 3, 2, 0, RELU);
        String b7 = unit(g, unit(g, unit(g, x, 192, 1), 192, 1, 7), 192, 7, 1);
        b7 = g.convBnAct(b7, 192, 3, 2, 0, RELU);
        return g.concat(b3, b7, g.maxPool(x, 3, 2, 0));
    }

    /** v3 8x8 module with expanded filter bank outputs (InceptionE): 3x3 split into parallel 1x3 and 3x1. */
    public static String e(Graph g, String x) {
        String b1 = unit(g, x, 320, 1);
        String b3 = unit(g, x, 384, 1);
        b3 = g.concat(unit(g, b3, 384, 1, 3), unit(g, b3, 384, 3, 1));
        String bd = unit(g, unit(g, x, 448, 1), 384, 3);
        bd = g.concat(unit(g, bd, 384, 1, 3), unit(g, bd, 384, 3, 1));
        String bp = unit(g, g.avgPool(x, 3, 1, 1), 192, 1);
        return g.concat(b1, b3, bd, bp);
    }

    /**
     * v3 auxiliary head on the 17x17 grid: 5x5/3 avg pool - 1x1 conv 128 - 5x5 conv 768 - global pool - softmax.
     * Below the default input size the pooled map is smaller than 5x5, and the 5x5 conv shrinks to cover it.
     */
    public static String v3Aux(Graph g, String x, String name, double lossWeight) {
        String y = unit(g, g.adaptiveAvgPool(x, 5), 128, 1);
        int k = (int) Math.min(5, g.shape(y).getHeight());
        y = g.convBnAct(y, 768, k, 1, 0, RELU);
        y = g.globalAvgPool(y);
        return g.auxClassifier(y, name, lossWeight);
    }
}
