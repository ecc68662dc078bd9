package org.sparkzoo.models.zoo;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelSpec;
import org.sparkzoo.models.blocks.Graph;

import java.util.List;

/**
 * Network in Network (Lin et al. 2014), the ImageNet model of the authors' Caffe model zoo: four "mlpconv" blocks
 * (a k x k conv followed by two 1x1 convs, all ReLU), 3x3/2 max pooling between them, dropout 0.5 before the last,
 * whose final 1x1 conv has one map per class; global average pooling replaces fully connected layers.
 */
public final class NiN {
    /** One mlpconv block: maps, kernel, stride, padding. */
    public record MlpConv(int maps, int kernel, int stride, int padding) {
    }

    public static final List<MlpConv> IMAGENET = List.of(
            new MlpConv(96, 11, 4, 0), new MlpConv(256, 5, 1, 2), new MlpConv(384, 3, 1, 1), new MlpConv(1024, 3, 1, 1));

    private NiN() {
    }

    public static List<ModelSpec> specs() {
        return List.of(new ModelSpec("nin", "NiN", "Network In Network", 2014, 224, 67, c -> build(c, IMAGENET)));
    }

    public static ComputationGraphConfiguration build(ModelConfig c, List<MlpConv> blocks) {
        Graph g = Graph.create(c, WeightInit.RELU);
        String x = Graph.INPUT;
        for (int i = 0; i < blocks.size(); i++) {
            MlpConv b = blocks.get(i);
            boolean last = i == blocks.size() - 1;
            if (last) {
                x = g.classifierDropout(x, 0.5);
            }
            x = g.conv(x, b.maps, b.kernel, b.stride, b.padding, Activation.RELU);
            x = g.conv(x, b.maps, 1, 1, 0, Activation.RELU);
            x = g.conv(x, last ? c.numClasses : b.maps, 1, 1, 0, Activation.RELU);
            if (!last) {
                x = g.maxPool(x, 3, 2, 0);
            }
        }
        g.softmaxLoss(g.globalAvgPool(x), Graph.OUTPUT);
        return g.build(Graph.OUTPUT);
    }
}
