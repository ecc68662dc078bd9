package org.sparkzoo.models.zoo;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelSpec;
import org.sparkzoo.models.blocks.Graph;

import java.util.ArrayList;
import java.util.List;

/**
 * FractalNet (Larsson et al. 2017): blocks built by the fractal expansion rule f_1(z) = conv(z),
 * f_{C+1}(z) = join(f_C(f_C(z)), conv(z)), joins being element-wise means, with local and global drop-path
 * ({@link ModelConfig#dropPath}: by default the paper's 0.15 local drop-path with half of the mini-batches in
 * global mode, {@link #PAPER_DROP_PATH}; 0 = off).
 * The ImageNet model of the paper (Section 4.3): ResNet-34's first and last layers around B=4 blocks of C=4 columns
 * (8 conv layers deep) with 128, 256, 512, 1024 filters, 2x2 max pooling between blocks. Convs are conv-BN-ReLU.
 */
public final class FractalNet {
    /** Columns C and the filters of each block. */
    public record Arch(int columns, int[] widths) {
    }

    public static final Arch IMAGENET = new Arch(4, new int[]{128, 256, 512, 1024});
    /** The paper's local drop-path rate (Sec. 4: 0.15, with 50% of the mini-batches in global mode). */
    public static final double PAPER_DROP_PATH = 0.15;

    private FractalNet() {
    }

    public static List<ModelSpec> specs() {
        return List.of(new ModelSpec("fractalnet", "FractalNet", "FractalNet: Ultra-Deep Neural Networks without Residuals",
                2017, 224, 29, c -> build(c, IMAGENET)));
    }

    public static ComputationGraphConfiguration build(ModelConfig c, Arch a) {
        Graph g = Graph.create(c, WeightInit.RELU);
        double dropPath = c.dropPathOr(PAPER_DROP_PATH);
        g.scope("stem");
        String x = g.convBnAct(Graph.INPUT, 64, 7, 2, 3, Activation.RELU);
        x = g.maxPool(x, 3, 2, 1);
        for (int b = 0; b < a.widths.length; b++) {
            g.scope("block" + (b + 1));
            x = join(g, fractal(g, x, a.columns, a.widths[b], 0, a.columns, dropPath), a.columns, dropPath);
            if (b < a.widths.length - 1) {
                x = g.maxPool(x, 2, 2, 0);
            }
        }
        g.scope("");
        g.classifier(g.globalAvgPool(x), Graph.OUTPUT);
        return g.build(Graph.OUTPUT);
    }

    /** A column's output not yet joined: its column index (0 = the shallowest, one conv) and vertex. */
    private record Column(int index, String name) {
    }

    /** The unjoined column outputs of f_C(z), columns numbered from {@code first}. */
    private static List<Column> fractal(Graph g, String z, int c, int width, int first, int totalColumns, double dropPath) {
        List<Column> out = new ArrayList<>();
        if (c > 1) {
            String inner = join(g, fractal(g, z, c - 1, width, first + 1, totalColumns, dropPath), totalColumns, dropPath);
            out.addAll(fractal(g, inner, c - 1, width, first + 1, totalColumns, dropPath));
        }
        out.add(new Column(first, g.convBnAct(z, width, 3, 1, 1, Activation.RELU)));
        return out;
    }

    private static String join(Graph g, List<Column> columns, int totalColumns, double dropPath) {
        int[] index = columns.stream().mapToInt(Column::index).toArray();
        String[] names = columns.stream().map(Column::name).toArray(String[]::new);
        return g.fractalJoin(index, totalColumns, dropPath, names);
    }
}
