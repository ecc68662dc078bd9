package org.sparkzoo.models.blocks;

import org.nd4j.linalg.activations.Activation;

/** DenseNet-BC pieces (Huang et al. 2017), named as in torchvision: _DenseLayer, _DenseBlock, _Transition. */
public final class DenseBlocks {
    private DenseBlocks() {
    }

    /** BN-ReLU-1x1 conv (bnSize * growthRate) - BN-ReLU-3x3 conv (growthRate): the new feature maps of one layer. */
    public static String denseLayer(Graph g, String x, int growthRate, int bnSize) {
        String y = g.bnAct(x, Activation.RELU);
        y = g.conv(y, bnSize * growthRate, 1, 1, 1, 1, 0, 0, Activation.IDENTITY, false);
        y = g.bnAct(y, Activation.RELU);
        return g.conv(y, growthRate, 3, 3, 1, 1, 1, 1, Activation.IDENTITY, false);
    }

    /** numLayers dense layers, each seeing the concatenation of the block input and all earlier layers' maps. */
    public static String denseBlock(Graph g, String x, int numLayers, int growthRate, int bnSize) {
        for (int i = 0; i < numLayers; i++) {
            x = g.concat(x, denseLayer(g, x, growthRate, bnSize));
        }
        return x;
    }

    /** BN-ReLU-1x1 conv (compression) - 2x2 average pooling. */
    public static String transition(Graph g, String x, int outChannels) {
        String y = g.bnAct(x, Activation.RELU);
        y = g.conv(y, outChannels, 1, 1, 1, 1, 0, 0, Activation.IDENTITY, false);
        return g.avgPool(y, 2, 2, 0);
    }
}
