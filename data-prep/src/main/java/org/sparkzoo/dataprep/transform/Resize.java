package org.sparkzoo.dataprep.transform;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.opencv_core.Mat;
import org.sparkzoo.dataprep.image.Image;
import org.sparkzoo.dataprep.image.Mats;

import java.util.Random;

/** torchvision {@code Resize(size)} with an int: the short side becomes {@code shortSide}, aspect ratio kept. */
public final class Resize implements Transform {
    private static final long serialVersionUID = 1L;
    private final int shortSide;

    public Resize(int shortSide) {
        if (shortSide <= 0) throw new IllegalArgumentException("Resize short side must be > 0, got " + shortSide);
        this.shortSide = shortSide;
    }

    public int shortSide() {
        return shortSide;
    }

    /** The output (width, height) torchvision computes: the long side is truncated, not rounded. */
    public static int[] outputSize(int width, int height, int shortSide) {
        if (width <= height) return new int[]{shortSide, (int) ((long) shortSide * height / width)};
        return new int[]{(int) ((long) shortSide * width / height), shortSide};
    }

    @Override
    public Image apply(Image img, Random rng) {
        if (img.shortSide() == shortSide) return img;
        int[] wh = outputSize(img.width, img.height, shortSide);
        try (PointerScope scope = new PointerScope()) {
            Mat src = Mats.toMat(img);
            Mat dst = new Mat();
            Interpolation.resizeTo(src, dst, wh[0], wh[1]);
            return Mats.toImage(dst);
        }
    }

    @Override
    public String toString() {
        return "Resize(" + shortSide + ")";
    }
}
