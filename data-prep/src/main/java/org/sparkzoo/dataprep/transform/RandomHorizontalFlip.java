package org.sparkzoo.dataprep.transform;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.opencv_core.Mat;
import org.sparkzoo.dataprep.image.Image;
import org.sparkzoo.dataprep.image.Mats;

import java.util.Random;

import static org.bytedeco.opencv.global.opencv_core.flip;

/** torchvision {@code RandomHorizontalFlip(p=0.5)}: mirrors left-right with probability p. */
public final class RandomHorizontalFlip implements Transform {
    private static final long serialVersionUID = 1L;
    private final double p;

    public RandomHorizontalFlip() {
        this(0.5);
    }

    public RandomHorizontalFlip(double p) {
        if (p < 0 || p > 1) throw new IllegalArgumentException("flip probability must be in [0, 1], got " + p);
        this.p = p;
    }

    @Override
    public Image apply(Image img, Random rng) {
        if (rng.nextDouble() >= p) return img;
        try (PointerScope scope = new PointerScope()) {
            Mat m = Mats.toMat(img);
            flip(m, m, 1);
            return Mats.toImage(m);
        }
    }

    @Override
    public String toString() {
        return "RandomHorizontalFlip(" + p + ")";
    }
}
