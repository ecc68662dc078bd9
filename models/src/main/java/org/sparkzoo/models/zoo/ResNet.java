package org.sparkzoo.models.zoo;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelSpec;
import org.sparkzoo.models.blocks.Graph;
import org.sparkzoo.models.blocks.Residual;

import java.util.List;

/**
 * The ResNet family as one builder taking the architecture as data, torchvision-style: {@code ResNet(block,
 * stageDepths, width)}. Covers ResNet-18..152 (He et al. 2016a), the pre-activation ResNet-50 v2 (He et al. 2016b),
 * Wide ResNet-50-2 (Zagoruyko and Komodakis 2016, torchvision's bottleneck variant) and SE-ResNet-50 (Hu et al.
 * 2018). Stochastic depth (Huang et al. 2016) on every residual branch when {@link ModelConfig#stochasticDepth} is
 * set: block l of L drops with probability l/L * p (linearly decaying survival, p for the last block).
 */
public final class ResNet {
    public enum Block { BASIC, BOTTLENECK, PRE_ACT_BOTTLENECK }

    /**
     * @param block         residual unit
     * @param stageDepths   blocks per stage (4 stages of 64, 128, 256, 512 planes)
     * @param widthPerGroup bottleneck inner width per 64 planes (64: ResNet, 128: Wide ResNet-50-2)
     * @param seReduction   squeeze-and-excitation reduction ratio, 0 = none
     */
    public record Arch(Block block, int[] stageDepths, int widthPerGroup, int seReduction) {
        static Arch of(Block block, int... depths) {
            return new Arch(block, depths, 64, 0);
        }
    }

    private static final int[] PLANES = {64, 128, 256, 512};

    private ResNet() {
    }

    public static List<ModelSpec> specs() {
        String v1 = "Deep Residual Learning for Image Recognition";
        return List.of(
                spec("resnet18", "ResNet", v1, 2016, Arch.of(Block.BASIC, 2, 2, 2, 2)),
                spec("resnet34", "ResNet", v1, 2016, Arch.of(Block.BASIC, 3, 4, 6, 3)),
                spec("resnet50", "ResNet", v1, 2016, Arch.of(Block.BOTTLENECK, 3, 4, 6, 3)),
                spec("resnet101", "ResNet", v1, 2016, Arch.of(Block.BOTTLENECK, 3, 4, 23, 3)),
                spec("resnet152", "ResNet", v1, 2016, Arch.of(Block.BOTTLENECK, 3, 8, 36, 3)),
                spec("resnet50_v2", "ResNet", "Identity Mappings in Deep Residual Networks", 2016,
                        Arch.of(Block.PRE_ACT_BOTTLENECK, 3, 4, 6, 3)),
                spec("wide_resnet50_2", "ResNet", "Wide Residual Networks", 2016,
                        new Arch(Block.BOTTLENECK, new int[]{3, 4, 6, 3}, 128, 0)),
                spec("se_resnet50", "SENet", "Squeeze-and-Excitation Networks", 2018,
                        new Arch(Block.BOTTLENECK, new int[]{3, 4, 6, 3}, 64, 16)));
    }

    private static ModelSpec spec(String name, String family, String paper, int year, Arch arch) {
        return new ModelSpec(name, family, paper, year, 224, 1, c -> build(c, arch));
    }

    public static ComputationGraphConfiguration build(ModelConfig c, Arch arch) {
        Graph g = Graph.create(c, WeightInit.RELU);
        boolean preAct = arch.block == Block.PRE_ACT_BOTTLENECK;
        g.scope("stem");
        String x = preAct
                ? g.conv(Graph.INPUT, 64, 7, 7, 2, 2, 3, 3, Activation.IDENTITY, true)
                : g.convBnAct(Graph.INPUT, 64, 7, 2, 3, Activation.RELU);
        x = g.maxPool(x, 3, 2, 1);
        int total = 0;
        for (int d : arch.stageDepths) {
            total += d;
        }
        int channels = 64;
        int index = 0;
        for (int s = 0; s < arch.stageDepths.length; s++) {
            int planes = PLANES[s];
            int depth = arch.stageDepths[s];
            for (int b = 0; b < depth; b++) {
                g.scope("layer" + (s + 1) + "." + b);
                double drop = c.stochasticDepth * (++index) / total;
                switch (arch.block) {
                    case BASIC:
                        x = Residual.basic(g, x, channels, planes, b == 0 && s > 0 ? 2 : 1, drop);
                        channels = planes;
                        break;
                    case BOTTLENECK:
                        int width = planes * arch.widthPerGroup / 64;
                        x = Residual.bottleneck(g, x, channels, width, planes * 4, b == 0 && s > 0 ? 2 : 1,
                                arch.seReduction, drop);
                        channels = planes * 4;
                        break;
                    default:
                        // TF-slim / Keras resnet_v2: projection in the first block, stride in the last (not in the last stage)
                        int stride = b == depth - 1 && s < arch.stageDepths.length - 1 ? 2 : 1;
                        x = Residual.preActBottleneck(g, x, planes, stride, b == 0, drop);
                        channels = planes * 4;
                }
            }
        }
        g.scope("");
        if (preAct) {
            x = g.bnAct(x, Activation.RELU);
        }
        g.classifier(g.globalAvgPool(x), Graph.OUTPUT);
        return g.build(Graph.OUTPUT);
    }
}
