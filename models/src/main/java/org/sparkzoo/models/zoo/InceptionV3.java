package org.sparkzoo.models.zoo;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelSpec;
import org.sparkzoo.models.blocks.Graph;
import org.sparkzoo.models.blocks.Inception;

import java.util.List;

/**
 * Inception v3 (Szegedy et al. 2016) as torchvision's inception_v3: factorized 1xn / nx1 convolutions, grid
 * reductions with parallel pooling, and the auxiliary classifier on the last 17x17 module (output "aux", loss
 * weight 0.4 as in torchvision's reference recipe). Default input 299.
 */
public final class InceptionV3 {
    public static final double AUX_LOSS_WEIGHT = 0.4;

    private InceptionV3() {
    }

    public static List<ModelSpec> specs() {
        return List.of(new ModelSpec("inception_v3", "Inception", "Rethinking the Inception Architecture for Computer Vision",
                2016, 299, 75, c -> build(c, true)));
    }

    public static ComputationGraphConfiguration build(ModelConfig c, boolean auxHead) {
        Graph g = Graph.create(c, WeightInit.RELU);
        g.scope("stem");
        String x = g.convBnAct(Graph.INPUT, 32, 3, 2, 0, Activation.RELU);
        x = g.convBnAct(x, 32, 3, 1, 0, Activation.RELU);
        x = g.convBnAct(x, 64, 3, 1, 1, Activation.RELU);
        x = g.maxPool(x, 3, 2, 0);
        x = g.convBnAct(x, 80, 1, 1, 0, Activation.RELU);
        x = g.convBnAct(x, 192, 3, 1, 0, Activation.RELU);
        x = g.maxPool(x, 3, 2, 0);
        int[] poolFeatures = {32, 64, 64};
        for (int i = 0; i < 3; i++) {
            g.scope("mixed5" + (char) ('b' + i));
            x = Inception.a(g, x, poolFeatures[i]);
        }
        g.scope("mixed6a");
        x = Inception.b(g, x);
        int[] c7 = {128, 160, 160, 192};
        for (int i = 0; i < 4; i++) {
            g.scope("mixed6" + (char) ('b' + i));
            x = Inception.c(g, x, c7[i]);
        }
        String auxInput = x;
        g.scope("mixed7a");
        x = Inception.d(g, x);
        for (int i = 0; i < 2; i++) {
            g.scope("mixed7" + (char) ('b' + i));
            x = Inception.e(g, x);
        }
        g.scope("");
        x = g.classifierDropout(g.globalAvgPool(x), 0.5);
        g.classifier(x, Graph.OUTPUT);
        if (!auxHead) {
            return g.build(Graph.OUTPUT);
        }
        g.scope("aux");
        Inception.v3Aux(g, auxInput, "aux", AUX_LOSS_WEIGHT);
        return g.build(Graph.OUTPUT, "aux");
    }
}
