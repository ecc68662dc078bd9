package org.sparkzoo.models.blocks;

import org.nd4j.linalg.activations.Activation;

/**
 * NASNet-A normal and reduction cells (Zoph et al. 2018, Fig. 4), laid out as Keras' nasnet.py, including its
 * "adjust" of the previous cell's output (factorized reduction or 1x1 projection) and TensorFlow's asymmetric
 * "same" padding before strided convolutions. Tensors carry their spatial size and channels so a cell can decide
 * how to adjust without asking DL4J.
 */
public final class NasCells {
    private static final Activation RELU = Activation.RELU;

    private NasCells() {
    }

    /** A feature map in the graph: vertex name, square side, channels. */
    public record Tensor(String name, int size, int channels) {
    }

    /** Padding (before, after) that TensorFlow's "same" uses for a stride-2 k x k window on a side of {@code size}. */
    static int[] correctPad(int size, int kernel) {
        int adjust = 1 - size % 2;
        return new int[]{kernel / 2 - adjust, kernel / 2};
    }

    /** ReLU - sepconv - BN - ReLU - sepconv - BN; the first sepconv is strided when stride is 2. */
    static String separableBlock(Graph g, String x, int size, int filters, int kernel, int stride) {
        String y = g.activation(x, RELU);
        if (stride == 2) {
            int[] pad = correctPad(size, kernel);
            y = g.separableConv(g.zeroPad(y, pad[0], pad[1], pad[0], pad[1]), filters, kernel, 2, 0, false);
        } else {
            y = g.separableConv(y, filters, kernel, 1, kernel / 2, false);
        }
        y = g.activation(g.batchNorm(y), RELU);
        return g.batchNorm(g.separableConv(y, filters, kernel, 1, kernel / 2, false));
    }

    /** Brings the previous cell's output p to the resolution of ip and to {@code filters} channels. */
    static Tensor adjust(Graph g, Tensor p, Tensor ip, int filters) {
        if (p == null) {
            return ip;
        }
        if (p.size != ip.size) {
            String r = g.activation(p.name, RELU);
            String p1 = g.conv(g.avgPool(r, 1, 2, 0), filters / 2, 1, 1, 1, 1, 0, 0, Activation.IDENTITY, false);
            String shifted = g.crop(g.zeroPad(r, 0, 1, 0, 1), 1, 0, 1, 0);
            String p2 = g.conv(g.avgPool(shifted, 1, 2, 0), filters / 2, 1, 1, 1, 1, 0, 0, Activation.IDENTITY, false);
            return new Tensor(g.batchNorm(g.concat(p1, p2)), (p.size + 1) / 2, filters);
        }
        if (p.channels != filters) {
            String r = g.conv(g.activation(p.name, RELU), filters, 1, 1, 1, 1, 0, 0, Activation.IDENTITY, false);
            return new Tensor(g.batchNorm(r), p.size, filters);
        }
        return p;
    }

    private static String squeeze(Graph g, Tensor ip, int filters) {
        String h = g.conv(g.activation(ip.name, RELU), filters, 1, 1, 1, 1, 0, 0, Activation.IDENTITY, false);
        return g.batchNorm(h);
    }

    /** Normal cell: five pairwise combinations of h (this input) and p (previous), concatenated with p: 6 x filters. */
    public static Tensor normal(Graph g, Tensor ip, Tensor prev, int filters, double dropPath) {
        Tensor p = adjust(g, prev, ip, filters);
        int n = ip.size;
        String h = squeeze(g, ip, filters);
        String x1 = g.add(separableBlock(g, h, n, filters, 5, 1), separableBlock(g, p.name, n, filters, 3, 1));
        String x2 = g.add(separableBlock(g, p.name, n, filters, 5, 1), separableBlock(g, p.name, n, filters, 3, 1));
        String x3 = g.add(g.avgPool(h, 3, 1, 1), p.name);
        String x4 = g.add(g.avgPool(p.name, 3, 1, 1), g.avgPool(p.name, 3, 1, 1));
        String x5 = g.add(separableBlock(g, h, n, filters, 3, 1), h);
        return new Tensor(g.concat(p.name, g.dropPath(x1, dropPath), g.dropPath(x2, dropPath), g.dropPath(x3, dropPath),
                g.dropPath(x4, dropPath), g.dropPath(x5, dropPath)), n, 6 * filters);
    }

    /** Reduction cell: halves the resolution; four combinations concatenated: 4 x filters. */
    public static Tensor reduction(Graph g, Tensor ip, Tensor prev, int filters, double dropPath) {
        Tensor p = adjust(g, prev, ip, filters);
        int n = ip.size;
        String h = squeeze(g, ip, filters);
        int[] pad = correctPad(n, 3);
        String h3 = g.zeroPad(h, pad[0], pad[1], pad[0], pad[1]);
        String x1 = g.add(separableBlock(g, h, n, filters, 5, 2), separableBlock(g, p.name, n, filters, 7, 2));
        String x2 = g.add(g.maxPool(h3, 3, 2, 0), separableBlock(g, p.name, n, filters, 7, 2));
        String x3 = g.add(g.avgPool(h3, 3, 2, 0), separableBlock(g, p.name, n, filters, 5, 2));
        String x4 = g.add(x2, g.avgPool(x1, 3, 1, 1));
        String x5 = g.add(separableBlock(g, x1, (n + 1) / 2, filters, 3, 1), g.maxPool(h3, 3, 2, 0));
        return new Tensor(g.concat(g.dropPath(x2, dropPath), g.dropPath(x3, dropPath), g.dropPath(x4, dropPath),
                g.dropPath(x5, dropPath)), (n + 1) / 2, 4 * filters);
    }
}
