package org.sparkzoo.models.zoo;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelSpec;
import org.sparkzoo.models.blocks.Graph;

import java.util.List;

/**
 * The 2012-2013 plain convnets: a stack of conv - ReLU [- LRN] [- max pool] stages, then two 4096-unit fully
 * connected layers with dropout, as data ({@link Stage} list + fc widths).
 *
 * <p><b>alexnet</b> (Krizhevsky et al. 2012) uses torchvision's single-tower widths 64-192-384-256-256 (from
 * Krizhevsky's "One weird trick", the variant whose parameter count torchvision publishes) with the original
 * paper's LRN after the first two convolutions; the paper's two-GPU grouped convolutions (96-256-384-384-256)
 * are not built. <b>zfnet</b> (Zeiler and Fergus 2014) follows the paper's Fig. 3: 7x7/2 first layer, 5x5/2 second,
 * LRN ("contrast normalization") after both; pool padding reproduces the figure's 110-55-26-13-6 sizes at 224.
 */
public final class AlexNet {
    private AlexNet() {
    }

    /** One conv stage: filters, square kernel, stride, padding; then LRN if set; then 3x3/2 max pool with poolPadding if pool. */
    public record Stage(int filters, int kernel, int stride, int padding, boolean lrn, boolean pool, int poolPadding) {
        static Stage conv(int filters, int kernel, int stride, int padding) {
            return new Stage(filters, kernel, stride, padding, false, false, 0);
        }

        Stage lrnAndPool(int poolPadding) {
            return new Stage(filters, kernel, stride, padding, true, true, poolPadding);
        }

        Stage thenPool() {
            return new Stage(filters, kernel, stride, padding, lrn, true, 0);
        }
    }

    public static final List<Stage> ALEXNET = List.of(
            Stage.conv(64, 11, 4, 2).lrnAndPool(0),
            Stage.conv(192, 5, 1, 2).lrnAndPool(0),
            Stage.conv(384, 3, 1, 1),
            Stage.conv(256, 3, 1, 1),
            Stage.conv(256, 3, 1, 1).thenPool());

    public static final List<Stage> ZFNET = List.of(
            Stage.conv(96, 7, 2, 1).lrnAndPool(1),
            Stage.conv(256, 5, 2, 0).lrnAndPool(1),
            Stage.conv(384, 3, 1, 1),
            Stage.conv(384, 3, 1, 1),
            Stage.conv(256, 3, 1, 1).thenPool());

    public static List<ModelSpec> specs() {
        return List.of(
                new ModelSpec("alexnet", "AlexNet", "ImageNet Classification with Deep Convolutional Neural Networks", 2012,
                        224, 63, c -> build(c, ALEXNET, 4096)),
                new ModelSpec("zfnet", "ZFNet", "Visualizing and Understanding Convolutional Networks", 2014,
                        224, 53, c -> build(c, ZFNET, 4096)));
    }

    public static ComputationGraphConfiguration build(ModelConfig c, List<Stage> stages, int fcWidth) {
        Graph g = Graph.create(c, WeightInit.RELU);
        String x = Graph.INPUT;
        for (Stage s : stages) {
            x = g.conv(x, s.filters, s.kernel, s.stride, s.padding, Activation.RELU);
            if (s.lrn) {
                x = g.lrn(x);
            }
            if (s.pool) {
                x = g.maxPool(x, 3, 2, s.poolPadding);
            }
        }
        for (int i = 0; i < 2; i++) {
            x = g.classifierDropout(x, 0.5);
            x = g.dense(x, fcWidth, Activation.RELU);
        }
        g.classifier(x, Graph.OUTPUT);
        return g.build(Graph.OUTPUT);
    }
}
