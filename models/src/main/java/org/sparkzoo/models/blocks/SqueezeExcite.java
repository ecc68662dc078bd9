package org.sparkzoo.models.blocks;

import org.nd4j.linalg.activations.Activation;

/** Squeeze-and-excitation (Hu et al. 2018): channel gates from global context, as 1x1 convs on [C,1,1] (timm's layout). */
public final class SqueezeExcite {
    private SqueezeExcite() {
    }

    /** x * sigmoid(W2 relu(W1 gap(x))), W1: C -> C/reduction, W2: C/reduction -> C, both with bias. */
    public static String gate(Graph g, String x, int channels, int reduction) {
        String s = g.globalAvgPoolKeepDims(x);
        s = g.conv(s, channels / reduction, 1, 1, 0, Activation.RELU);
        s = g.conv(s, channels, 1, 1, 0, Activation.SIGMOID);
        return g.multiply(x, s);
    }
}
