package org.sparkzoo.models.zoo;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelSpec;
import org.sparkzoo.models.blocks.Graph;
import org.sparkzoo.models.blocks.NasCells;
import org.sparkzoo.models.blocks.NasCells.Tensor;

import java.util.List;

/**
 * NASNet-A (Zoph et al. 2018) as Keras' nasnet.py: 3x3/2 stem, two stem reduction cells, then three stacks of
 * {@code numBlocks} normal cells separated by reduction cells. NASNet-Mobile is (penultimateFilters 1056, 4 blocks,
 * stem 32, filter multiplier 2). With {@link ModelConfig#dropPath} > 0 every cell's combined branches pass through
 * drop-path, the rate growing linearly with the cell's depth (TF-slim's layer scaling, without its time schedule);
 * by default none, as Keras' NASNetMobile and the paper's mobile ImageNet model are trained.
 */
public final class NASNet {
    public record Arch(int penultimateFilters, int numBlocks, int stemFilters, int filterMultiplier) {
    }

    public static final Arch MOBILE = new Arch(1056, 4, 32, 2);

    private NASNet() {
    }

    public static List<ModelSpec> specs() {
        return List.of(new ModelSpec("nasnet_mobile", "NASNet", "Learning Transferable Architectures for Scalable Image Recognition",
                2018, 224, 3, c -> build(c, MOBILE)));
    }

    public static ComputationGraphConfiguration build(ModelConfig c, Arch a) {
        Graph g = Graph.create(c, WeightInit.RELU);
        int filters = a.penultimateFilters / 24;
        int m = a.filterMultiplier;
        int cells = 3 * a.numBlocks + 4;
        int cell = 0;
        double dropPath = c.dropPathOr(0);
        g.scope("stem");
        String stem = g.batchNorm(g.conv(Graph.INPUT, a.stemFilters, 3, 3, 2, 2, 0, 0, Activation.IDENTITY, false));
        Tensor x = new Tensor(stem, (c.height - 3) / 2 + 1, a.stemFilters);
        Tensor p = null;
        g.scope("stem_1");
        Tensor next = NasCells.reduction(g, x, p, filters / (m * m), dropPath * ++cell / cells);
        p = x;
        x = next;
        g.scope("stem_2");
        next = NasCells.reduction(g, x, p, filters / m, dropPath * ++cell / cells);
        p = x;
        x = next;
        int width = filters;
        for (int stack = 0; stack < 3; stack++) {
            if (stack > 0) {
                width *= m;
                g.scope("reduce_" + stack);
                next = NasCells.reduction(g, x, p, width, dropPath * ++cell / cells);
                p = x;
                x = next;
            }
            for (int i = 0; i < a.numBlocks; i++) {
                g.scope("normal_" + stack + "." + i);
                next = NasCells.normal(g, x, p, width, dropPath * ++cell / cells);
                p = x;
                x = next;
            }
        }
        g.scope("");
        String y = g.activation(x.name(), Activation.RELU);
        g.classifier(g.globalAvgPool(y), Graph.OUTPUT);
        return g.build(Graph.OUTPUT);
    }
}
