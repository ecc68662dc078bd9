package org.sparkzoo.jobs.data;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkzoo.dataprep.ImageRecord;
import org.sparkzoo.dataprep.image.BadImageException;
import org.sparkzoo.dataprep.image.Image;
import org.sparkzoo.dataprep.image.ImageCodec;
import org.sparkzoo.dataprep.transform.Presets;
import org.sparkzoo.dataprep.transform.Transform;

import java.util.List;
import java.util.Random;

/**
 * Turns shard rows into network input: decode, transform (the same transform classes prep-job uses), normalize
 * into one NCHW float array. Shared by training (online augmentation) and evaluation (test-time views).
 */
public final class ImageBatches {
    private ImageBatches() {
    }

    /** Per-channel mean and std (in [0,1] units): ImageNet's for RGB, their average for greyscale. */
    public static float[] mean(int channels) {
        return Presets.meanFor(channels);
    }

    public static float[] std(int channels) {
        return Presets.stdFor(channels);
    }

    /** The stored image of a record (re-encoded JPEG, or raw uint8 HWC) as pixels with the wanted channels. */
    public static Image decode(ImageRecord r, int channels, int minShortSide) throws BadImageException {
        if (!r.isRaw()) {
            return ImageCodec.decode(r.image, channels, minShortSide);
        }
        Image img = new Image(r.image, r.height, r.width, r.channels);
        return r.channels == channels ? img : convertChannels(img, channels);
    }

    /** Grey to RGB by repeating the plane; RGB to grey by ITU-R BT.601 luma (what OpenCV's decoder does). */
    static Image convertChannels(Image img, int channels) {
        int pixels = img.height * img.width;
        byte[] out = new byte[pixels * channels];
        for (int p = 0; p < pixels; p++) {
            if (img.channels == 1) {
                for (int c = 0; c < channels; c++) {
                    out[p * channels + c] = img.data[p];
                }
            } else {
                int r = img.data[p * img.channels] & 0xff;
                int g = img.data[p * img.channels + 1] & 0xff;
                int b = img.data[p * img.channels + 2] & 0xff;
                out[p] = (byte) Math.round(0.299 * r + 0.587 * g + 0.114 * b);
            }
        }
        return new Image(out, img.height, img.width, channels);
    }

    /**
     * Decodes and transforms each record into row i of an [n, channels, size, size] array.
     *
     * @param rng seeded per slice, so a run (and a resumed run) sees the same augmentations
     */
    public static INDArray features(List<ImageRecord> records, Transform transform, int channels, int size, Random rng) {
        int n = records.size();
        int plane = channels * size * size;
        float[] data = new float[n * plane];
        float[] mean = mean(channels);
        float[] std = std(channels);
        for (int i = 0; i < n; i++) {
            ImageRecord r = records.get(i);
            Image img;
            try {
                img = decode(r, channels, size);
            } catch (BadImageException e) {
                // prep-job quarantines undecodable files, so this means the shard itself is damaged
                throw new IllegalStateException("cannot decode " + r.path + " from its shard: " + e.getMessage(), e);
            }
            Image out = transform.apply(img, rng);
            if (out.height != size || out.width != size) {
                throw new IllegalStateException("transform produced " + out.height + "x" + out.width + ", expected " + size);
            }
            Presets.toTensor(out, mean, std, data, i * plane);
        }
        return Nd4j.create(data, new long[]{n, channels, size, size}, 'c');
    }

    /** One-hot labels, with label smoothing eps: the true class gets 1 - eps + eps/K, every class eps/K. */
    public static INDArray labels(List<ImageRecord> records, int numClasses, double labelSmoothing) {
        int n = records.size();
        float off = (float) (labelSmoothing / numClasses);
        float on = (float) (1.0 - labelSmoothing) + off;
        float[] data = new float[n * numClasses];
        if (off != 0f) {
            java.util.Arrays.fill(data, off);
        }
        for (int i = 0; i < n; i++) {
            int label = records.get(i).label;
            if (label < 0 || label >= numClasses) {
                throw new IllegalStateException("label " + label + " of " + records.get(i).path + " is outside the "
                        + numClasses + " classes of the manifest");
            }
            data[i * numClasses + label] = on;
        }
        return Nd4j.create(data, new long[]{n, numClasses}, 'c');
    }
}
