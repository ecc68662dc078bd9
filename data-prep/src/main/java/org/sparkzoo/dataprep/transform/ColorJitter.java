package org.sparkzoo.dataprep.transform;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.opencv_core.Mat;
import org.sparkzoo.dataprep.image.Image;
import org.sparkzoo.dataprep.image.Mats;

import java.util.Random;

import static org.bytedeco.opencv.global.opencv_core.addWeighted;
import static org.bytedeco.opencv.global.opencv_core.mean;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_GRAY2RGB;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_RGB2GRAY;
import static org.bytedeco.opencv.global.opencv_imgproc.cvtColor;

/**
 * torchvision {@code ColorJitter(brightness, contrast, saturation)}: each factor is drawn uniformly from
 * [max(0, 1 - x), 1 + x] and the three adjustments run in random order, with torchvision's blends
 * (brightness against black, contrast against the mean grey, saturation against the grey image).
 * Hue jitter is not implemented. On grey images saturation does nothing.
 */
public final class ColorJitter implements Transform {
    private static final long serialVersionUID = 1L;
    private final double brightness, contrast, saturation;

    public ColorJitter(double brightness, double contrast, double saturation) {
        if (brightness < 0 || contrast < 0 || saturation < 0) throw new IllegalArgumentException("ColorJitter amounts must be >= 0");
        this.brightness = brightness;
        this.contrast = contrast;
        this.saturation = saturation;
    }

    private static double factor(double amount, Random rng) {
        double lo = Math.max(0, 1 - amount), hi = 1 + amount;
        return lo + (hi - lo) * rng.nextDouble();
    }

    @Override
    public Image apply(Image img, Random rng) {
        int[] order = {0, 1, 2};
        for (int i = order.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        double b = factor(brightness, rng), c = factor(contrast, rng), s = factor(saturation, rng);
        try (PointerScope scope = new PointerScope()) {
            Mat m = Mats.toMat(img);
            for (int op : order) {
                switch (op) {
                    case 0 -> {
                        if (brightness > 0) m.convertTo(m, -1, b, 0);
                    }
                    case 1 -> {
                        if (contrast > 0) {
                            double meanGrey = mean(grey(m)).get(0);
                            m.convertTo(m, -1, c, (1 - c) * meanGrey);
                        }
                    }
                    default -> {
                        if (saturation > 0 && m.channels() == 3) {
                            Mat grey3 = new Mat();
                            cvtColor(grey(m), grey3, COLOR_GRAY2RGB);
                            addWeighted(m, s, grey3, 1 - s, 0, m);
                        }
                    }
                }
            }
            return Mats.toImage(m);
        }
    }

    private static Mat grey(Mat m) {
        if (m.channels() == 1) return m;
        Mat g = new Mat();
        cvtColor(m, g, COLOR_RGB2GRAY);
        return g;
    }

    @Override
    public String toString() {
        return "ColorJitter(brightness=" + brightness + ", contrast=" + contrast + ", saturation=" + saturation + ")";
    }
}
