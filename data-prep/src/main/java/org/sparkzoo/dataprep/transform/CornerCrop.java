package org.sparkzoo.dataprep.transform;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Rect;
import org.sparkzoo.dataprep.image.Image;
import org.sparkzoo.dataprep.image.Mats;

import java.util.Random;

/**
 * One corner crop of torchvision's {@code FiveCrop(size)} / {@code TenCrop(size)} (the fifth is {@link CenterCrop}):
 * the size x size window in the given corner. Test-time only, so it is deterministic.
 */
public final class CornerCrop implements Transform {
    private static final long serialVersionUID = 1L;

    /** The four corners, in torchvision's five_crop order (then center). */
    public enum Corner { TOP_LEFT, TOP_RIGHT, BOTTOM_LEFT, BOTTOM_RIGHT }

    private final int size;
    private final Corner corner;

    public CornerCrop(int size, Corner corner) {
        if (size <= 0) throw new IllegalArgumentException("CornerCrop size must be > 0, got " + size);
        this.size = size;
        this.corner = corner;
    }

    @Override
    public Image apply(Image img, Random rng) {
        if (img.height < size || img.width < size) {
            throw new IllegalArgumentException("CornerCrop(" + size + ") needs an image at least " + size + "x" + size
                    + ", got " + img.height + "x" + img.width + "; resize it first");
        }
        int top = corner == Corner.TOP_LEFT || corner == Corner.TOP_RIGHT ? 0 : img.height - size;
        int left = corner == Corner.TOP_LEFT || corner == Corner.BOTTOM_LEFT ? 0 : img.width - size;
        if (top == 0 && left == 0 && img.height == size && img.width == size) return img;
        try (PointerScope scope = new PointerScope()) {
            return Mats.toImage(new Mat(Mats.toMat(img), new Rect(left, top, size, size)));
        }
    }

    @Override
    public String toString() {
        return "CornerCrop(" + size + ", " + corner + ")";
    }
}
