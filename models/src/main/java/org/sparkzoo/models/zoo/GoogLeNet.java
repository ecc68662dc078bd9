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
 * GoogLeNet / Inception v1 (Szegedy et al. 2015) as torchvision's googlenet: BN after every convolution, the
 * third branch 3x3 (torchvision's; the paper's is 5x5, {@code branch3Kernel}), no LRN, max pools with ceil-mode
 * sizes (here: padding 1). Two auxiliary classifiers on inception 4a and 4d are outputs "aux1" and "aux2" with
 * their loss weighted 0.3 inside the layer (paper, Section 5); output 0 is the main classifier.
 */
public final class GoogLeNet {
    public static final double AUX_LOSS_WEIGHT = 0.3;

    /** One module's widths: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj (the paper's Table 1 columns). */
    public record Module(int c1, int c3r, int c3, int c5r, int c5, int poolProj) {
    }

    public static final List<Module> STAGE3 = List.of(new Module(64, 96, 128, 16, 32, 32), new Module(128, 128, 192, 32, 96, 64));
    public static final List<Module> STAGE4 = List.of(new Module(192, 96, 208, 16, 48, 64), new Module(160, 112, 224, 24, 64, 64),
            new Module(128, 128, 256, 24, 64, 64), new Module(112, 144, 288, 32, 64, 64), new Module(256, 160, 320, 32, 128, 128));
    public static final List<Module> STAGE5 = List.of(new Module(256, 160, 320, 32, 128, 128), new Module(384, 192, 384, 48, 128, 128));

    private GoogLeNet() {
    }

    public static List<ModelSpec> specs() {
        return List.of(new ModelSpec("googlenet", "GoogLeNet", "Going Deeper with Convolutions", 2015, 224, 17,
                c -> build(c, 3, true)));
    }

    public static ComputationGraphConfiguration build(ModelConfig c, int branch3Kernel, boolean auxHeads) {
        Graph g = Graph.create(c, WeightInit.RELU);
        String x = g.convBnAct(Graph.INPUT, 64, 7, 2, 3, Activation.RELU);
        x = g.maxPool(x, 3, 2, 1);
        x = g.convBnAct(x, 64, 1, 1, 0, Activation.RELU);
        x = g.convBnAct(x, 192, 3, 1, 1, Activation.RELU);
        x = g.maxPool(x, 3, 2, 1);
        x = stage(g, x, STAGE3, branch3Kernel, "inception3");
        x = g.maxPool(x, 3, 2, 1);
        String aux1 = null;
        String aux2 = null;
        for (int i = 0; i < STAGE4.size(); i++) {
            x = stage(g, x, STAGE4.subList(i, i + 1), branch3Kernel, "inception4" + (char) ('a' + i));
            if (auxHeads && i == 0) {
                aux1 = x;
            } else if (auxHeads && i == 3) {
                aux2 = x;
            }
        }
        x = g.maxPool(x, 2, 2, 0);
        x = stage(g, x, STAGE5, branch3Kernel, "inception5");
        g.scope("");
        x = g.classifierDropout(g.globalAvgPool(x), 0.2);
        g.classifier(x, Graph.OUTPUT);
        if (!auxHeads) {
            return g.build(Graph.OUTPUT);
        }
        g.scope("aux1");
        Inception.v1Aux(g, aux1, "aux1", AUX_LOSS_WEIGHT);
        g.scope("aux2");
        Inception.v1Aux(g, aux2, "aux2", AUX_LOSS_WEIGHT);
        return g.build(Graph.OUTPUT, "aux1", "aux2");
    }

    private static String stage(Graph g, String x, List<Module> modules, int branch3Kernel, String scope) {
        for (Module m : modules) {
            g.scope(scope);
            x = Inception.v1(g, x, m.c1, m.c3r, m.c3, m.c5r, m.c5, m.poolProj, branch3Kernel);
        }
        return x;
    }
}
