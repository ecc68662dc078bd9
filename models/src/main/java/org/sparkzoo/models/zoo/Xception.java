package org.sparkzoo.models.zoo;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelSpec;
import org.sparkzoo.models.blocks.Graph;

import java.util.List;

import static org.sparkzoo.models.blocks.MobileBlocks.separableBn;

/**
 * Xception (Chollet 2017), laid out as Keras' xception.py: entry flow of strided separable-conv residual modules,
 * a middle flow of identical 3-unit residual modules, exit flow; separable convolutions without bias, each
 * followed by BN. Default input 299.
 */
public final class Xception {
    /**
     * @param entryWidths  widths of the entry-flow modules (each halves the resolution)
     * @param middleWidth  width of the middle flow
     * @param middleBlocks number of middle-flow modules
     * @param exitWidths   the exit module's two widths, then the two final separable convs
     */
    public record Arch(int[] entryWidths, int middleWidth, int middleBlocks, int[] exitWidths) {
    }

    public static final Arch XCEPTION = new Arch(new int[]{128, 256, 728}, 728, 8, new int[]{728, 1024, 1536, 2048});
    private static final Activation RELU = Activation.RELU;

    private Xception() {
    }

    public static List<ModelSpec> specs() {
        return List.of(new ModelSpec("xception", "Xception", "Xception: Deep Learning with Depthwise Separable Convolutions",
                2017, 299, 7, c -> build(c, XCEPTION)));
    }

    public static ComputationGraphConfiguration build(ModelConfig c, Arch a) {
        Graph g = Graph.create(c, WeightInit.RELU);
        g.scope("entry");
        String x = g.convBnAct(Graph.INPUT, 32, 3, 2, 0, RELU);
        x = g.convBnAct(x, 64, 3, 1, 0, RELU);
        for (int i = 0; i < a.entryWidths.length; i++) {
            g.scope("entry" + (i + 1));
            int w = a.entryWidths[i];
            x = downsamplingModule(g, x, i == 0 ? x : g.activation(x, RELU), w, w);
        }
        for (int i = 0; i < a.middleBlocks; i++) {
            g.scope("middle" + (i + 1));
            String y = x;
            for (int k = 0; k < 3; k++) {
                y = separableBn(g, g.activation(y, RELU), a.middleWidth, 3);
            }
            x = g.add(y, x);
        }
        g.scope("exit");
        x = downsamplingModule(g, x, g.activation(x, RELU), a.exitWidths[0], a.exitWidths[1]);
        x = g.activation(separableBn(g, x, a.exitWidths[2], 3), RELU);
        x = g.activation(separableBn(g, x, a.exitWidths[3], 3), RELU);
        g.scope("");
        g.classifier(g.globalAvgPool(x), Graph.OUTPUT);
        return g.build(Graph.OUTPUT);
    }

    /** sepconv w1 - BN - ReLU - sepconv w2 - BN - 3x3/2 max pool, plus a strided 1x1 conv + BN shortcut. */
    private static String downsamplingModule(Graph g, String x, String activated, int w1, int w2) {
        String residual = g.convBn(x, w2, 1, 2, 0);
        String y = g.activation(separableBn(g, activated, w1, 3), RELU);
        y = separableBn(g, y, w2, 3);
        y = g.maxPool(y, 3, 2, 1);
        return g.add(y, residual);
    }
}
