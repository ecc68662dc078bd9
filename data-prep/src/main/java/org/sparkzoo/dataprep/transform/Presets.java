package org.sparkzoo.dataprep.transform;

import org.sparkzoo.dataprep.image.Image;

/**
 * torchvision's classification presets and {@code ToTensor + Normalize}, the one place train-time and
 * eval-time pipelines come from.
 */
public final class Presets {
    /** ImageNet's per-channel RGB mean and std on the [0, 1] scale (torchvision's). */
    public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    public static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};
    /** For 1-channel data: the ImageNet values averaged over R, G, B. */
    public static final float[] GREY_MEAN = {(0.485f + 0.456f + 0.406f) / 3};
    public static final float[] GREY_STD = {(0.229f + 0.224f + 0.225f) / 3};

    private Presets() {
    }

    /** {@code RandomResizedCrop(cropSize) + RandomHorizontalFlip(0.5)}: torchvision's training preset. */
    public static Compose train(int cropSize) {
        return new Compose(new RandomResizedCrop(cropSize), new RandomHorizontalFlip(0.5));
    }

    /** {@code Resize(resizeSize) + CenterCrop(cropSize)}: torchvision's evaluation preset (224 / 256 for ImageNet). */
    public static Compose eval(int cropSize, int resizeSize) {
        return new Compose(new Resize(resizeSize), new CenterCrop(cropSize));
    }

    /**
     * The offline augmentation that {@code --augment-copies} applies: the training preset plus
     * {@code ColorJitter(0.4, 0.4, 0.4)} and AlexNet {@code Lighting(0.1)} (fb.resnet.torch's recipe).
     */
    public static Compose augment(int cropSize) {
        return new Compose(new RandomResizedCrop(cropSize), new RandomHorizontalFlip(0.5),
                new ColorJitter(0.4, 0.4, 0.4), new Lighting(0.1));
    }

    /** The mean for images with this many channels (ImageNet's for 3, its average for 1). */
    public static float[] meanFor(int channels) {
        return channels == 1 ? GREY_MEAN : IMAGENET_MEAN;
    }

    public static float[] stdFor(int channels) {
        return channels == 1 ? GREY_STD : IMAGENET_STD;
    }

    /**
     * Writes {@code (pixel / 255 - mean[c]) / std[c]} as CHW floats into {@code out} from {@code offset}.
     * The output channel count is {@code mean.length}: a grey image is replicated into 3 channels when
     * mean has 3 entries, and an RGB image is reduced to its luma (ITU-R 601) when mean has 1.
     */
    public static void toTensor(Image img, float[] mean, float[] std, float[] out, int offset) {
        int outC = mean.length;
        if (std.length != outC || (outC != 1 && outC != 3)) throw new IllegalArgumentException("mean/std must both have 1 or 3 entries");
        int plane = img.height * img.width;
        if (out.length - offset < outC * plane) {
            throw new IllegalArgumentException("out has room for " + (out.length - offset) + " floats, needs " + outC * plane);
        }
        byte[] d = img.data;
        if (img.channels == outC) {
            for (int c = 0; c < outC; c++) {
                float scale = 1f / (255f * std[c]), shift = mean[c] / std[c];
                int o = offset + c * plane;
                for (int p = 0, i = c; p < plane; p++, i += outC) out[o + p] = (d[i] & 0xff) * scale - shift;
            }
        } else if (img.channels == 1) {
            for (int c = 0; c < 3; c++) {
                float scale = 1f / (255f * std[c]), shift = mean[c] / std[c];
                int o = offset + c * plane;
                for (int p = 0; p < plane; p++) out[o + p] = (d[p] & 0xff) * scale - shift;
            }
        } else {
            float scale = 1f / (255f * std[0]), shift = mean[0] / std[0];
            for (int p = 0, i = 0; p < plane; p++, i += 3) {
                float luma = 0.299f * (d[i] & 0xff) + 0.587f * (d[i + 1] & 0xff) + 0.114f * (d[i + 2] & 0xff);
                out[offset + p] = luma * scale - shift;
            }
        }
    }
}
