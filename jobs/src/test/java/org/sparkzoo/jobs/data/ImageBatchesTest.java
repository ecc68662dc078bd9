package org.sparkzoo.jobs.data;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkzoo.dataprep.ImageRecord;
import org.sparkzoo.dataprep.transform.Presets;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ImageBatchesTest {

    private static ImageRecord rawGrey(int label) {
        byte[] pixels = new byte[4 * 4];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 16);
        }
        return new ImageRecord(pixels, label, "n0", "a.png", 4, 4, ImageRecord.RAW, 1);
    }

    @Test
    void rawGreyImagesFeedAnRgbModelWithThreeEqualPlanes() {
        INDArray x = ImageBatches.features(List.of(rawGrey(0)), Presets.eval(4, 4), 3, 4, new Random(1));
        assertArrayEquals(new long[]{1, 3, 4, 4}, x.shape());
        // same pixel, normalized with each channel's own mean and std
        for (int c = 0; c < 3; c++) {
            double expected = (9 * 16 / 255.0 - Presets.IMAGENET_MEAN[c]) / Presets.IMAGENET_STD[c];
            assertEquals(expected, x.getDouble(0, c, 2, 1), 1e-5);
        }
    }

    @Test
    void labelSmoothingKeepsEachRowASumOfOne() {
        INDArray y = ImageBatches.labels(List.of(rawGrey(2), rawGrey(0)), 4, 0.1);
        assertEquals(0.9 + 0.025, y.getDouble(0, 2), 1e-6);
        assertEquals(0.025, y.getDouble(0, 0), 1e-6);
        assertEquals(1.0, y.getRow(1).sumNumber().doubleValue(), 1e-6);
    }
}
