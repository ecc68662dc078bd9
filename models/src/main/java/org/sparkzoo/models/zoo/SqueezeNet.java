package org.sparkzoo.models.zoo;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelSpec;
import org.sparkzoo.models.blocks.Graph;
import org.sparkzoo.models.blocks.MobileBlocks;

import java.util.List;

/**
 * SqueezeNet 1.1 (Iandola et al. 2016; v1.1 from the authors' repository) as torchvision: 3x3/2 stem, fire
 * modules with max pools after the stem and fire 3 and 5, dropout, a 1x1 conv to class maps, global average pooling.
 */
public final class SqueezeNet {
    /** Fire modules (squeeze, expand 1x1, expand 3x3); a null entry is a 3x3/2 max pool. */
    public static final int[][] V1_1 = {null, {16, 64, 64}, {16, 64, 64}, null, {32, 128, 128}, {32, 128, 128}, null,
            {48, 192, 192}, {48, 192, 192}, {64, 256, 256}, {64, 256, 256}};

    private SqueezeNet() {
    }

    public static List<ModelSpec> specs() {
        return List.of(new ModelSpec("squeezenet1_1", "SqueezeNet",
                "SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size", 2016, 224, 31,
                c -> build(c, 64, V1_1)));
    }

    public static ComputationGraphConfiguration build(ModelConfig c, int stemFilters, int[][] fires) {
        Graph g = Graph.create(c, WeightInit.RELU);
        String x = g.conv(Graph.INPUT, stemFilters, 3, 2, 0, Activation.RELU);
        int i = 0;
        for (int[] f : fires) {
            if (f == null) {
                x = g.maxPool(x, 3, 2, 0);
            } else {
                g.scope("fire" + (++i + 1));
                x = MobileBlocks.fire(g, x, f[0], f[1], f[2]);
            }
        }
        g.scope("");
        x = g.classifierDropout(x, 0.5);
        x = g.conv(x, c.numClasses, 1, 1, 0, Activation.RELU);
        g.softmaxLoss(g.globalAvgPool(x), Graph.OUTPUT);
        return g.build(Graph.OUTPUT);
    }
}
