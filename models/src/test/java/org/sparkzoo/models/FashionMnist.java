package org.sparkzoo.models;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.zip.GZIPInputStream;

/**
 * The first images of Fashion-MNIST's training set (Debian package dataset-fashion-mnist: gzipped big-endian IDX
 * files), bilinearly resized and replicated to the channels a model takes.
 */
final class FashionMnist {
    static final Path DIR = Paths.get("/usr/share/datasets/fashion-mnist");
    static final int CLASSES = 10;

    private FashionMnist() {
    }

    /** n images as [n, channels, size, size], pixel/255 standardized with the dataset's mean 0.286 / std 0.353; one-hot labels. */
    static DataSet batch(int n, int channels, int size) throws IOException {
        int[][] pixels = images(n);
        int[] labels = labels(n);
        float[] data = new float[n * channels * size * size];
        for (int i = 0; i < n; i++) {
            float[] resized = resize(pixels[i], 28, size);
            for (int c = 0; c < channels; c++) {
                for (int p = 0; p < size * size; p++) {
                    data[((i * channels + c) * size * size) + p] = (resized[p] / 255f - 0.286f) / 0.353f;
                }
            }
        }
        INDArray features = Nd4j.create(data, new long[]{n, channels, size, size}, 'c').castTo(Nd4j.defaultFloatingPointType());
        INDArray oneHot = Nd4j.zeros(Nd4j.defaultFloatingPointType(), n, CLASSES);
        for (int i = 0; i < n; i++) {
            oneHot.putScalar(i, labels[i], 1.0);
        }
        return new DataSet(features, oneHot);
    }

    static int[][] images(int n) throws IOException {
        try (DataInputStream in = open("train-images-idx3-ubyte.gz", 2051)) {
            int count = in.readInt();
            int rows = in.readInt();
            int cols = in.readInt();
            if (n > count || rows != 28 || cols != 28) {
                throw new IOException("unexpected IDX image header: " + count + "x" + rows + "x" + cols);
            }
            int[][] out = new int[n][rows * cols];
            for (int i = 0; i < n; i++) {
                for (int p = 0; p < rows * cols; p++) {
                    out[i][p] = in.readUnsignedByte();
                }
            }
            return out;
        }
    }

    static int[] labels(int n) throws IOException {
        try (DataInputStream in = open("train-labels-idx1-ubyte.gz", 2049)) {
            int count = in.readInt();
            if (n > count) {
                throw new IOException("only " + count + " labels");
            }
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = in.readUnsignedByte();
            }
            return out;
        }
    }

    private static DataInputStream open(String file, int magic) throws IOException {
        InputStream raw = Files.newInputStream(DIR.resolve(file));
        DataInputStream in = new DataInputStream(new GZIPInputStream(raw, 1 << 16));
        int m = in.readInt();
        if (m != magic) {
            in.close();
            throw new IOException(file + ": IDX magic " + m + ", expected " + magic);
        }
        return in;
    }

    /** Bilinear resize of a square grey image (align-corners=false sampling). */
    static float[] resize(int[] src, int from, int to) {
        float[] out = new float[to * to];
        double scale = (double) from / to;
        for (int y = 0; y < to; y++) {
            double sy = Math.min(Math.max((y + 0.5) * scale - 0.5, 0), from - 1);
            int y0 = (int) sy;
            int y1 = Math.min(y0 + 1, from - 1);
            double fy = sy - y0;
            for (int x = 0; x < to; x++) {
                double sx = Math.min(Math.max((x + 0.5) * scale - 0.5, 0), from - 1);
                int x0 = (int) sx;
                int x1 = Math.min(x0 + 1, from - 1);
                double fx = sx - x0;
                double top = src[y0 * from + x0] * (1 - fx) + src[y0 * from + x1] * fx;
                double bottom = src[y1 * from + x0] * (1 - fx) + src[y1 * from + x1] * fx;
                out[y * to + x] = (float) (top * (1 - fy) + bottom * fy);
            }
        }
        return out;
    }
}
