package org.sparkzoo.models.zoo;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelSpec;
import org.sparkzoo.models.blocks.DenseBlocks;
import org.sparkzoo.models.blocks.Graph;

import java.util.List;

/**
 * DenseNet-BC (Huang et al. 2017) as torchvision: {@code DenseNet(growthRate, blockConfig, numInitFeatures)} with
 * bottleneck size 4 and compression 0.5; 7x7/2 stem and 3x3/2 max pool; final BN-ReLU, global pool, classifier.
 */
public final class DenseNet {
    public record Arch(int growthRate, int[] blockConfig, int numInitFeatures, int bnSize) {
    }

    private DenseNet() {
    }

    public static List<ModelSpec> specs() {
        String paper = "Densely Connected Convolutional Networks";
        return List.of(
                new ModelSpec("densenet121", "DenseNet", paper, 2017, 224, 29, c -> build(c, new Arch(32, new int[]{6, 12, 24, 16}, 64, 4))),
                new ModelSpec("densenet169", "DenseNet", paper, 2017, 224, 29, c -> build(c, new Arch(32, new int[]{6, 12, 32, 32}, 64, 4))),
                new ModelSpec("densenet201", "DenseNet", paper, 2017, 224, 29, c -> build(c, new Arch(32, new int[]{6, 12, 48, 32}, 64, 4))));
    }

    public static ComputationGraphConfiguration build(ModelConfig c, Arch a) {
        Graph g = Graph.create(c, WeightInit.RELU);
        g.scope("stem");
        String x = g.convBnAct(Graph.INPUT, a.numInitFeatures, 7, 2, 3, Activation.RELU);
        x = g.maxPool(x, 3, 2, 1);
        int features = a.numInitFeatures;
        for (int i = 0; i < a.blockConfig.length; i++) {
            g.scope("denseblock" + (i + 1));
            x = DenseBlocks.denseBlock(g, x, a.blockConfig[i], a.growthRate, a.bnSize);
            features += a.blockConfig[i] * a.growthRate;
            if (i != a.blockConfig.length - 1) {
                g.scope("transition" + (i + 1));
                features /= 2;
                x = DenseBlocks.transition(g, x, features);
            }
        }
        g.scope("");
        x = g.bnAct(x, Activation.RELU);
        g.classifier(g.globalAvgPool(x), Graph.OUTPUT);
        return g.build(Graph.OUTPUT);
    }
}
