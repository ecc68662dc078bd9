package org.sparkzoo.dataprep.transform;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.opencv_core.Mat;
import org.sparkzoo.dataprep.image.Image;
import org.sparkzoo.dataprep.image.Mats;

import java.util.Random;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC;
import static org.bytedeco.opencv.global.opencv_core.LUT;

/**
 * AlexNet's PCA lighting noise (Krizhevsky et al. 2012, section 4.1; fb.resnet.torch's {@code Lighting}):
 * adds {@code eigvec * (alpha * eigval)} to every RGB pixel, alpha ~ N(0, alphaStd) per component, with
 * ImageNet's RGB eigenvalues and eigenvectors (on the [0, 1] scale, applied here x 255). Grey images get
 * the mean of the three offsets.
 */
public final class Lighting implements Transform {
    private static final long serialVersionUID = 1L;
    public static final double[] IMAGENET_EIGVAL = {0.2175, 0.0188, 0.0045};
    public static final double[][] IMAGENET_EIGVEC = {
            {-0.5675, 0.7192, 0.4009},
            {-0.5808, -0.0045, -0.8140},
            {-0.5836, -0.6948, 0.4203}};

    private final double alphaStd;

    public Lighting() {
        this(0.1);
    }

    public Lighting(double alphaStd) {
        if (alphaStd < 0) throw new IllegalArgumentException("Lighting alphaStd must be >= 0");
        this.alphaStd = alphaStd;
    }

    /** The per-channel RGB offsets (0-255 scale) for one draw. */
    public double[] offsets(Random rng) {
        double[] alpha = {rng.nextGaussian() * alphaStd, rng.nextGaussian() * alphaStd, rng.nextGaussian() * alphaStd};
        double[] rgb = new double[3];
        for (int c = 0; c < 3; c++) {
            double v = 0;
            for (int k = 0; k < 3; k++) v += IMAGENET_EIGVEC[c][k] * alpha[k] * IMAGENET_EIGVAL[k];
            rgb[c] = v * 255.0;
        }
        return rgb;
    }

    @Override
    public Image apply(Image img, Random rng) {
        double[] rgb = offsets(rng);
        if (alphaStd == 0) return img;
        int ch = img.channels;
        byte[] table = new byte[256 * ch];
        for (int v = 0; v < 256; v++) {
            for (int c = 0; c < ch; c++) {
                double off = ch == 3 ? rgb[c] : (rgb[0] + rgb[1] + rgb[2]) / 3;
                table[v * ch + c] = (byte) Math.max(0, Math.min(255, (int) Math.round(v + off)));
            }
        }
        try (PointerScope scope = new PointerScope()) {
            Mat m = Mats.toMat(img);
            Mat lut = new Mat(1, 256, CV_8UC(ch));
            lut.data().put(table, 0, table.length);
            LUT(m, lut, m);
            return Mats.toImage(m);
        }
    }

    @Override
    public String toString() {
        return "Lighting(" + alphaStd + ")";
    }
}
