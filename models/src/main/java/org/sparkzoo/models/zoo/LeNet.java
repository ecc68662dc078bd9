package org.sparkzoo.models.zoo;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelSpec;
import org.sparkzoo.models.blocks.Graph;

import java.util.List;

/**
 * LeNet-5 (LeCun et al., 1998): two 5x5 convolutions (6 and 16 maps), each followed by 2x2 pooling, then fully
 * connected layers of 120 and 84 units. Modernized as in most re-implementations: ReLU and max pooling instead
 * of scaled tanh and trainable subsampling; the first convolution is padded so a 28x28 MNIST-style image keeps
 * the paper's 28x28 C1 map. No dropout unless asked for (`--classifier-dropout`: before the classifier).
 */
public final class LeNet {
    private LeNet() {
    }

    public static List<ModelSpec> specs() {
        return List.of(new ModelSpec("lenet5", "LeNet", "Gradient-Based Learning Applied to Document Recognition", 1998,
                32, 12, LeNet::lenet5));
    }

    static ComputationGraphConfiguration lenet5(ModelConfig c) {
        Graph g = Graph.create(c, WeightInit.RELU);
        int pad = c.height <= 28 ? 2 : 0;
        String x = g.conv(Graph.INPUT, 6, 5, 1, pad, Activation.RELU);
        x = g.maxPool(x, 2, 2, 0);
        x = g.conv(x, 16, 5, 1, 0, Activation.RELU);
        x = g.maxPool(x, 2, 2, 0);
        x = g.dense(x, 120, Activation.RELU);
        x = g.dense(x, 84, Activation.RELU);
        x = g.classifierDropout(x, 0);   // the paper has none; --classifier-dropout adds one
        g.classifier(x, Graph.OUTPUT);
        return g.build(Graph.OUTPUT);
    }
}
