package org.sparkzoo.dataprep.transform;

import org.sparkzoo.dataprep.image.Image;

import java.util.Random;

/**
 * torchvision {@code RandomCrop(size, padding)} with zero fill: pads every side with {@code padding} black pixels,
 * then takes a size x size window at a uniformly drawn offset. With a flip it is the CIFAR recipe (32 px, padding 4)
 * of the ResNet paper and torchvision's CIFAR examples; on Fashion-MNIST the fill matches the black background.
 */
public final class RandomCrop implements Transform {
    private static final long serialVersionUID = 1L;
    private final int size;
    private final int padding;

    public RandomCrop(int size, int padding) {
        if (size <= 0) throw new IllegalArgumentException("RandomCrop size must be > 0, got " + size);
        if (padding < 0) throw new IllegalArgumentException("RandomCrop padding must be >= 0, got " + padding);
        this.size = size;
        this.padding = padding;
    }

    @Override
    public Image apply(Image img, Random rng) {
        int paddedH = img.height + 2 * padding;
        int paddedW = img.width + 2 * padding;
        if (paddedH < size || paddedW < size) {
            throw new IllegalArgumentException("RandomCrop(" + size + ", padding " + padding + ") needs an image at least "
                    + (size - 2 * padding) + "x" + (size - 2 * padding) + ", got " + img.height + "x" + img.width + "; resize it first");
        }
        // offsets into the padded image, drawn as torchvision draws them (top, then left)
        int top = rng.nextInt(paddedH - size + 1) - padding;
        int left = rng.nextInt(paddedW - size + 1) - padding;
        int c = img.channels;
        byte[] out = new byte[size * size * c];
        for (int y = 0; y < size; y++) {
            int sy = y + top;
            if (sy < 0 || sy >= img.height) continue;
            int x0 = Math.max(0, -left);
            int x1 = Math.min(size, img.width - left);
            if (x1 > x0) {
                System.arraycopy(img.data, (sy * img.width + x0 + left) * c, out, (y * size + x0) * c, (x1 - x0) * c);
            }
        }
        return new Image(out, size, size, c);
    }

    @Override
    public String toString() {
        return "RandomCrop(" + size + ", padding=" + padding + ")";
    }
}
