package org.sparkzoo.models.training;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link BatchNormHelper#channelMoments}, the forward's batch statistics, against a double-precision two-pass
 * reference computed here element by element: on activations whose mean is a thousand standard deviations from zero
 * (where a float sum of squares would keep no digit of the variance), on planes whose length is not a multiple of the
 * four-way unrolled loop, and on an array that is a view at an offset into a larger buffer.
 */
class BatchNormHelperTest {

    @Test
    void channelMomentsAreExactToFloatRoundingEvenFarFromZero() {
        Random random = new Random(7);
        int n = 3, c = 5, h = 7, w = 9;
        float[] values = new float[n * c * h * w];
        for (int i = 0; i < values.length; i++) {
            int channel = (i / (h * w)) % c;
            values[i] = (float) (1000.0 * (channel - 2) + (channel + 1) * random.nextGaussian());
        }
        INDArray x = Nd4j.create(values, new long[]{n, c, h, w}, 'c');
        check(x, values, n, c, h * w, 0);
    }

    @Test
    void channelMomentsReadAViewAtItsOffset() {
        Random random = new Random(11);
        int n = 4, c = 3, plane = 5 * 6;
        INDArray big = Nd4j.create(DataType.FLOAT, n + 2, c, 5, 6);
        float[] all = new float[(n + 2) * c * plane];
        for (int i = 0; i < all.length; i++) {
            all[i] = (float) (i < 2 * c * plane ? 1e6 : random.nextGaussian() * 3 + 0.5);
        }
        big.assign(Nd4j.create(all, new long[]{n + 2, c, 5, 6}, 'c'));
        INDArray x = big.get(NDArrayIndex.interval(2, n + 2), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all());
        assertTrue(x.offset() > 0, "the test needs a view at an offset");
        check(x, all, n, c, plane, 2 * c * plane);
    }

    private static void check(INDArray x, float[] values, int n, int c, int plane, int from) {
        INDArray mean = Nd4j.create(DataType.FLOAT, c), var = Nd4j.create(DataType.FLOAT, c);
        BatchNormHelper.channelMoments(x, mean, var);
        for (int j = 0; j < c; j++) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < plane; k++) {
                    sum += values[from + (i * c + j) * plane + k];
                }
            }
            double mu = sum / (n * plane), m2 = 0;
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < plane; k++) {
                    double d = values[from + (i * c + j) * plane + k] - mu;
                    m2 += d * d;
                }
            }
            double v = m2 / (n * plane);
            // the results are floats: within a few float ulps of the double-precision values
            assertEquals(mu, mean.getDouble(j), 4 * Math.ulp((float) mu), "mean of channel " + j);
            assertEquals(v, var.getDouble(j), 4 * Math.ulp((float) v), "variance of channel " + j);
        }
    }
}
