package org.sparkzoo.dataprep.transform;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Rect;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.sparkzoo.dataprep.image.Image;
import org.sparkzoo.dataprep.image.Mats;

import java.util.Random;

import static org.bytedeco.opencv.global.opencv_core.BORDER_CONSTANT;
import static org.bytedeco.opencv.global.opencv_core.copyMakeBorder;

/**
 * torchvision {@code CenterCrop(size)}: the central size x size window. An image smaller than the crop is
 * first padded with black on each side, as torchvision does.
 */
public final class CenterCrop implements Transform {
    private static final long serialVersionUID = 1L;
    private final int height;
    private final int width;

    public CenterCrop(int size) {
        this(size, size);
    }

    public CenterCrop(int height, int width) {
        if (height <= 0 || width <= 0) throw new IllegalArgumentException("CenterCrop size must be > 0");
        this.height = height;
        this.width = width;
    }

    @Override
    public Image apply(Image img, Random rng) {
        if (img.height == height && img.width == width) return img;
        try (PointerScope scope = new PointerScope()) {
            Mat m = Mats.toMat(img);
            if (img.height < height || img.width < width) {
                int padH = Math.max(0, height - img.height), padW = Math.max(0, width - img.width);
                Mat padded = new Mat();
                copyMakeBorder(m, padded, padH / 2, (padH + 1) / 2, padW / 2, (padW + 1) / 2, BORDER_CONSTANT, new Scalar(0.0));
                m = padded;
            }
            int top = (int) Math.round((m.rows() - height) / 2.0);
            int left = (int) Math.round((m.cols() - width) / 2.0);
            return Mats.toImage(new Mat(m, new Rect(left, top, width, height)));
        }
    }

    @Override
    public String toString() {
        return "CenterCrop(" + height + (height == width ? "" : ", " + width) + ")";
    }
}
