package org.sparkzoo.models.zoo;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelSpec;
import org.sparkzoo.models.blocks.Graph;

import java.util.List;

/**
 * VGG (Simonyan and Zisserman 2015), configurations A, B, D, E of the paper's Table 1 as torchvision's cfgs: a
 * layer list where a number is a 3x3 conv (pad 1, bias, ReLU) with that many maps and {@link #M} a 2x2 max pool;
 * then fc 4096 - fc 4096 (ReLU, dropout 0.5) - classifier. No batch norm (the paper's networks).
 */
public final class VGG {
    /** Max pool 2x2/2 in a layer list. */
    public static final int M = -1;
    public static final int[] A = {64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M};
    public static final int[] B = {64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M};
    public static final int[] D = {64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M};
    public static final int[] E = {64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M, 512, 512, 512, 512, M};

    private VGG() {
    }

    public static List<ModelSpec> specs() {
        String paper = "Very Deep Convolutional Networks for Large-Scale Image Recognition";
        return List.of(
                new ModelSpec("vgg11", "VGG", paper, 2015, 224, 32, c -> build(c, A)),
                new ModelSpec("vgg13", "VGG", paper, 2015, 224, 32, c -> build(c, B)),
                new ModelSpec("vgg16", "VGG", paper, 2015, 224, 32, c -> build(c, D)),
                new ModelSpec("vgg19", "VGG", paper, 2015, 224, 32, c -> build(c, E)));
    }

    public static ComputationGraphConfiguration build(ModelConfig c, int[] layers) {
        Graph g = Graph.create(c, WeightInit.RELU);
        String x = Graph.INPUT;
        for (int v : layers) {
            x = v == M ? g.maxPool(x, 2, 2, 0) : g.conv(x, v, 3, 1, 1, Activation.RELU);
        }
        for (int i = 0; i < 2; i++) {
            x = g.dense(x, 4096, Activation.RELU);
            x = g.classifierDropout(x, 0.5);
        }
        g.classifier(x, Graph.OUTPUT);
        return g.build(Graph.OUTPUT);
    }
}
