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
 * four-way unrolled loop, and on an array that is a view at an offset into a larger buffer; and
 * {@link BatchNormHelper#inputGradient}, the backward, against the textbook formula evaluated in double.
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

    @Test
    void backwardMatchesTheTextbookFormulaToFloatRounding() {
        // channels whose mean is far from zero (where dgamma is a difference of large sums), an odd plane length,
        // and enough elements that the passes are split between threads where ND4J has more than one
        Random random = new Random(5);
        int n = 8, c = 7, plane = 47 * 53;
        float[] xs = new float[n * c * plane], dys = new float[xs.length];
        for (int i = 0; i < xs.length; i++) {
            int channel = (i / plane) % c;
            xs[i] = (float) (300.0 * (channel - 3) + (channel + 1) * random.nextGaussian());
            dys[i] = (float) (random.nextGaussian() * 1e-3 + 2e-4 * (channel - 3));
        }
        long[] shape = {n, c, 47, 53};
        INDArray x = Nd4j.create(xs, shape, 'c'), dy = Nd4j.create(dys, shape, 'c');
        INDArray mean = Nd4j.create(DataType.FLOAT, c), var = Nd4j.create(DataType.FLOAT, c);
        BatchNormHelper.channelMoments(x, mean, var);
        float[] gamma = new float[c];
        for (int j = 0; j < c; j++) {
            gamma[j] = (float) (0.5 + 0.25 * j);
        }
        double eps = 1e-5;
        INDArray dGamma = Nd4j.create(DataType.FLOAT, c), dBeta = Nd4j.create(DataType.FLOAT, c);
        INDArray dx = Nd4j.create(DataType.FLOAT, shape);
        BatchNormHelper.inputGradient(x, dy, Nd4j.create(gamma), mean, var, eps, dGamma, dBeta, dx);

        double m = (double) n * plane;
        for (int j = 0; j < c; j++) {
            double mu = mean.getFloat(j), invStd = 1.0 / Math.sqrt(var.getFloat(j) + eps);
            double sumDy = 0, sumDyXhat = 0, sumAbsDy = 0, sumAbsDyXhat = 0;
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < plane; k++) {
                    int at = (i * c + j) * plane + k;
                    double xhat = (xs[at] - mu) * invStd;
                    sumDy += dys[at];
                    sumDyXhat += dys[at] * xhat;
                    sumAbsDy += Math.abs(dys[at]);
                    sumAbsDyXhat += Math.abs(dys[at] * xhat);
                }
            }
            // dbeta and dgamma are rounded once to float; dgamma = invstd * (sum(dy * x) - mean * sum(dy)) also
            // carries the rounding of x - mean in float's mean, bounded by the sum of |dy * xhat|
            assertEquals(sumDy, dBeta.getDouble(j), 2 * Math.ulp((float) sumDy) + 1e-12 * sumAbsDy, "dbeta of channel " + j);
            assertEquals(sumDyXhat, dGamma.getDouble(j), 2 * Math.ulp((float) sumDyXhat) + 1e-9 * sumAbsDyXhat,
                    "dgamma of channel " + j);
            double worst = 0;
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < plane; k++) {
                    int at = (i * c + j) * plane + k;
                    double xhat = (xs[at] - mu) * invStd;
                    double a = gamma[j] * invStd;
                    double expected = a * (dys[at] - sumDy / m - xhat * sumDyXhat / m);
                    // the Java pass computes k1 * dy + (k2 * x + k3) in float: each term and the coefficients are
                    // rounded, and k2 * x + k3 cancels to k2 * (x - mean), so the bound scales with |k2 * x|
                    double k2x = Math.abs(a * invStd * sumDyXhat / m * xs[at]);
                    double bound = 8 * Math.ulp((float) (Math.abs(a * dys[at]) + k2x + Math.abs(a * sumDy / m)));
                    worst = Math.max(worst, Math.abs(dx.getDouble(i, j, k / 53, k % 53) - expected) / bound);
                }
            }
            assertTrue(worst <= 1, "input gradient of channel " + j + " off by " + worst + " of its rounding bound");
        }
    }
}
