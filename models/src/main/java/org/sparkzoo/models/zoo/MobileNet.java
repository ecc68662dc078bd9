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
 * MobileNet v1 (Howard et al. 2017, laid out as Keras' mobilenet.py) and MobileNetV2 (Sandler et al. 2018, as
 * torchvision's mobilenetv2.py), both scaled by {@link ModelConfig#widthMultiplier} (alpha).
 */
public final class MobileNet {
    /** v1 body: pointwise filters and stride of each depthwise separable unit. */
    public static final int[][] V1 = {{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2},
            {512, 1}, {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};
    /** v2 body: expansion t, channels c, repeats n, first stride s (the paper's Table 2). */
    public static final int[][] V2 = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1},
            {6, 160, 3, 2}, {6, 320, 1, 1}};

    private MobileNet() {
    }

    public static List<ModelSpec> specs() {
        return List.of(
                new ModelSpec("mobilenet_v1", "MobileNet",
                        "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications", 2017,
                        224, 32, c -> v1(c, V1)),
                new ModelSpec("mobilenet_v2", "MobileNet", "MobileNetV2: Inverted Residuals and Linear Bottlenecks", 2018,
                        224, 1, c -> v2(c, V2)));
    }

    public static ComputationGraphConfiguration v1(ModelConfig c, int[][] units) {
        double alpha = c.widthMultiplier;
        Graph g = Graph.create(c, WeightInit.RELU);
        g.scope("stem");
        String x = g.zeroPad(Graph.INPUT, 0, 1, 0, 1);
        x = g.conv(x, 32 * alpha < 1 ? 1 : (int) (32 * alpha), 3, 3, 2, 2, 0, 0, Activation.IDENTITY, false);
        x = g.bnAct(x, Activation.RELU6);
        for (int i = 0; i < units.length; i++) {
            g.scope("dw" + (i + 1));
            x = MobileBlocks.depthwiseSeparable(g, x, (int) (units[i][0] * alpha), units[i][1]);
        }
        g.scope("");
        x = g.classifierDropout(g.globalAvgPool(x), 1e-3);
        g.classifier(x, Graph.OUTPUT);
        return g.build(Graph.OUTPUT);
    }

    public static ComputationGraphConfiguration v2(ModelConfig c, int[][] settings) {
        double alpha = c.widthMultiplier;
        Graph g = Graph.create(c, WeightInit.RELU);
        g.scope("stem");
        int channels = makeDivisible(32 * alpha, 8);
        String x = g.convBnAct(Graph.INPUT, channels, 3, 2, 1, Activation.RELU6);
        int index = 0;
        for (int[] s : settings) {
            int out = makeDivisible(s[1] * alpha, 8);
            for (int i = 0; i < s[2]; i++) {
                g.scope("features." + (++index));
                x = MobileBlocks.invertedResidual(g, x, channels, out, i == 0 ? s[3] : 1, s[0]);
                channels = out;
            }
        }
        g.scope("head");
        x = g.convBnAct(x, makeDivisible(1280 * Math.max(1.0, alpha), 8), 1, 1, 0, Activation.RELU6);
        g.scope("");
        x = g.classifierDropout(g.globalAvgPool(x), 0.2);
        g.classifier(x, Graph.OUTPUT);
        return g.build(Graph.OUTPUT);
    }

    /** torchvision's _make_divisible: nearest multiple of divisor, never more than 10% below v. */
    static int makeDivisible(double v, int divisor) {
        int n = Math.max(divisor, (int) (v + divisor / 2.0) / divisor * divisor);
        return n < 0.9 * v ? n + divisor : n;
    }
}
