package org.sparkzoo.dataprep.transform;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Rect;
import org.sparkzoo.dataprep.image.Image;
import org.sparkzoo.dataprep.image.Mats;

import java.util.Random;

/**
 * torchvision {@code RandomResizedCrop(size, scale=(0.08, 1.0), ratio=(3/4, 4/3))}: a crop of random area
 * fraction and aspect ratio (log-uniform), resized to size x size; after 10 failed draws, a central crop
 * with the ratio clamped (torchvision's fallback).
 */
public final class RandomResizedCrop implements Transform {
    private static final long serialVersionUID = 1L;
    private final int size;
    private final double scaleMin, scaleMax, ratioMin, ratioMax;

    public RandomResizedCrop(int size) {
        this(size, 0.08, 1.0, 3.0 / 4.0, 4.0 / 3.0);
    }

    public RandomResizedCrop(int size, double scaleMin, double scaleMax, double ratioMin, double ratioMax) {
        if (size <= 0) throw new IllegalArgumentException("RandomResizedCrop size must be > 0, got " + size);
        if (scaleMin <= 0 || scaleMin > scaleMax || ratioMin <= 0 || ratioMin > ratioMax) {
            throw new IllegalArgumentException("RandomResizedCrop needs 0 < scaleMin <= scaleMax and 0 < ratioMin <= ratioMax");
        }
        this.size = size;
        this.scaleMin = scaleMin;
        this.scaleMax = scaleMax;
        this.ratioMin = ratioMin;
        this.ratioMax = ratioMax;
    }

    /** The crop window {x, y, w, h} for an image of the given size: torchvision's get_params. */
    public int[] window(int width, int height, Random rng) {
        double area = (double) width * height;
        double logMin = Math.log(ratioMin), logMax = Math.log(ratioMax);
        for (int attempt = 0; attempt < 10; attempt++) {
            double targetArea = area * (scaleMin + (scaleMax - scaleMin) * rng.nextDouble());
            double aspect = Math.exp(logMin + (logMax - logMin) * rng.nextDouble());
            int w = (int) Math.round(Math.sqrt(targetArea * aspect));
            int h = (int) Math.round(Math.sqrt(targetArea / aspect));
            if (w > 0 && h > 0 && w <= width && h <= height) {
                int y = rng.nextInt(height - h + 1);
                int x = rng.nextInt(width - w + 1);
                return new int[]{x, y, w, h};
            }
        }
        double inRatio = (double) width / height;
        int w, h;
        if (inRatio < ratioMin) {
            w = width;
            h = (int) Math.round(w / ratioMin);
        } else if (inRatio > ratioMax) {
            h = height;
            w = (int) Math.round(h * ratioMax);
        } else {
            w = width;
            h = height;
        }
        return new int[]{(width - w) / 2, (height - h) / 2, w, h};
    }

    @Override
    public Image apply(Image img, Random rng) {
        int[] win = window(img.width, img.height, rng);
        try (PointerScope scope = new PointerScope()) {
            Mat m = Mats.toMat(img);
            Mat roi = new Mat(m, new Rect(win[0], win[1], win[2], win[3]));
            Mat dst = new Mat();
            Interpolation.resizeTo(roi, dst, size, size);
            return Mats.toImage(dst);
        }
    }

    @Override
    public String toString() {
        return "RandomResizedCrop(" + size + ", scale=(" + scaleMin + ", " + scaleMax + "), ratio=(" + ratioMin + ", " + ratioMax + "))";
    }
}
