package org.sparkzoo.models.zoo;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelSpec;
import org.sparkzoo.models.blocks.Graph;
import org.sparkzoo.models.blocks.InceptionResNet;

import java.util.List;

/**
 * Inception-ResNet-v2 (Szegedy et al. 2017) as Keras' inception_resnet_v2.py: stem, mixed_5b, 10 x block35
 * (scale 0.17), mixed_6a, 20 x block17 (0.1), mixed_7a, 10 x block8 (0.2; the last scale 1 without ReLU), 1x1 conv
 * 1536, global pool, dropout (the paper's keep 0.8), classifier. Default input 299.
 */
public final class InceptionResNetV2 {
    /** Repeats and residual scales of the three residual stages. */
    public record Arch(int blocks35, double scale35, int blocks17, double scale17, int blocks8, double scale8) {
    }

    public static final Arch V2 = new Arch(10, 0.17, 20, 0.1, 10, 0.2);
    private static final Activation RELU = Activation.RELU;

    private InceptionResNetV2() {
    }

    public static List<ModelSpec> specs() {
        return List.of(new ModelSpec("inception_resnet_v2", "Inception",
                "Inception-v4, Inception-ResNet and the Impact of Residual Connections on Learning", 2017, 299, 75,
                c -> build(c, V2)));
    }

    public static ComputationGraphConfiguration build(ModelConfig c, Arch a) {
        Graph g = Graph.create(c, WeightInit.RELU);
        g.scope("stem");
        String x = g.convBnAct(Graph.INPUT, 32, 3, 2, 0, RELU);
        x = g.convBnAct(x, 32, 3, 1, 0, RELU);
        x = g.convBnAct(x, 64, 3, 1, 1, RELU);
        x = g.maxPool(x, 3, 2, 0);
        x = g.convBnAct(x, 80, 1, 1, 0, RELU);
        x = g.convBnAct(x, 192, 3, 1, 0, RELU);
        x = g.maxPool(x, 3, 2, 0);
        g.scope("mixed_5b");
        x = InceptionResNet.mixed5b(g, x);
        for (int i = 0; i < a.blocks35; i++) {
            g.scope("block35_" + (i + 1));
            x = InceptionResNet.block35(g, x, 320, a.scale35);
        }
        g.scope("mixed_6a");
        x = InceptionResNet.mixed6a(g, x);
        for (int i = 0; i < a.blocks17; i++) {
            g.scope("block17_" + (i + 1));
            x = InceptionResNet.block17(g, x, 1088, a.scale17);
        }
        g.scope("mixed_7a");
        x = InceptionResNet.mixed7a(g, x);
        for (int i = 0; i < a.blocks8; i++) {
            g.scope("block8_" + (i + 1));
            boolean last = i == a.blocks8 - 1;
            x = InceptionResNet.block8(g, x, 2080, last ? 1.0 : a.scale8, !last);
        }
        g.scope("conv_7b");
        x = g.convBnAct(x, 1536, 1, 1, 0, RELU);
        g.scope("");
        x = g.classifierDropout(g.globalAvgPool(x), 0.2);
        g.classifier(x, Graph.OUTPUT);
        return g.build(Graph.OUTPUT);
    }
}
