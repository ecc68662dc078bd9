package org.sparkzoo.models.training;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;
import org.deeplearning4j.nn.layers.normalization.BatchNormalizationHelper;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * Batch norm for training NCHW float activations with fewer and faster passes over the activations than DL4J's
 * oneDNN helper. Installed by {@link ZooGraph} in place of that helper; other layouts and types go to it.
 *
 * <p>What DL4J's helper pays (async-profiler, {@code scripts/bench-kernels --profile --dwarf}): the backward runs
 * libnd4j's {@code batchnorm_bp}, whose oneDNN path asks oneDNN only for the gradient with the batch statistics held
 * fixed and then adds the terms through the mean and variance with ten generic element-wise passes over the
 * activations (mobilenet_v2 at 112 px: 11% of a training step). Here the forward's mean and variance
 * ({@link #channelMoments}, in double) and the whole backward ({@link #inputGradient}: the sums for dbeta and dgamma,
 * then the input gradient as a per-channel affine map of dy and x) are passes in Java over ND4J's buffers, each split
 * between ND4J's threads ({@link ActivationPasses}); the forward's normalisation is oneDNN's ({@link #normalize}).
 * An earlier version used libnd4j's reductions for the sums and oneDNN's kernel, as an affine map, twice for the
 * input gradient; on a 32x96x56x56 activation, 2 threads, the backward now takes 15 ms against 30-38 ms. A
 * float-accumulated variance (centred input, then a dot product) was tried first and dropped: 4e-6 off, enough to
 * move ReLU and max-pool decisions and resnet18's gradients by 4%. {@code OneDnnHelpersTest} holds the gradients to
 * a double-precision reference, as it holds DL4J's own helpers.
 */
public final class BatchNormHelper implements BatchNormalizationHelper {
    private final MKLDNNBatchNormHelper others;
    private boolean delegated;
    private INDArray meanCache;
    private INDArray varCache;

    public BatchNormHelper(DataType dataType) {
        this.others = new MKLDNNBatchNormHelper(dataType);
    }

    @Override
    public boolean checkSupported() {
        return BaseMKLDNNHelper.mklDnnEnabled();
    }

    @Override
    public boolean checkSupported(double eps, boolean fixedGammaBeta) {
        return !fixedGammaBeta && checkSupported();
    }

    private static boolean handled(INDArray x, CNN2DFormat format) {
        // the Java passes index the buffers with ints: larger arrays (8 GB of activations per layer) go to DL4J's
        return x.dataType() == DataType.FLOAT && x.rank() == 4 && format == CNN2DFormat.NCHW
                && x.data().length() < Integer.MAX_VALUE;
    }

    @Override
    public INDArray preOutput(INDArray x, boolean training, long[] shape, INDArray gamma, INDArray beta, INDArray mean,
                              INDArray var, double decay, double eps, CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        delegated = !handled(x, format) || gamma == null || beta == null;
        if (delegated) {
            return others.preOutput(x, training, shape, gamma, beta, mean, var, decay, eps, format, workspaceMgr);
        }
        INDArray g = flat(gamma), b = flat(beta);
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, x.dataType(), x.shape());
        if (!training) {
            normalize(x, flat(mean), flat(var), g, b, eps, out);
            return out;
        }
        x = ActivationPasses.contiguous(x);
        constants(x.size(1));
        channelMoments(x, meanCache, varCache);
        normalize(x, meanCache, varCache, g, b, eps, out);
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray epsilon, long[] shape, INDArray gamma,
                                                     INDArray beta, INDArray dGammaView, INDArray dBetaView, double eps,
                                                     CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        if (delegated) {
            return others.backpropGradient(input, epsilon, shape, gamma, beta, dGammaView, dBetaView, eps, format, workspaceMgr);
        }
        INDArray x = ActivationPasses.contiguous(input), dy = ActivationPasses.contiguous(epsilon);
        INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, x.dataType(), x.shape());
        inputGradient(x, dy, flat(gamma), meanCache, varCache, eps, flat(dGammaView), flat(dBetaView), dx);
        Gradient gradient = new DefaultGradient();
        gradient.setGradientFor(BatchNormalizationParamInitializer.GAMMA, dGammaView);
        gradient.setGradientFor(BatchNormalizationParamInitializer.BETA, dBetaView);
        return new Pair<>(gradient, dx);
    }

    /**
     * The batch mean and (biased) variance per channel of contiguous NCHW float {@code x}, into {@code mean} and
     * {@code var}: one pass over the activations, in double, the channels split between ND4J's threads. Each (n, c)
     * plane, which is contiguous, is summed as deviations from its first element (so the sum of squares does not
     * cancel), and the planes of a channel are combined by Chan et al.'s pairwise update. Exact to float rounding, as
     * libnd4j's {@code Variance} is, and faster than it: libnd4j updates a generic running mean and variance with a
     * division per element (about 3 ns an element, the largest kernel outside the convolutions in resnet50's,
     * mobilenet_v2's and densenet121's step before this).
     */
    static void channelMoments(INDArray x, INDArray mean, INDArray var) {
        int n = (int) x.size(0), c = (int) x.size(1);
        int plane = (int) (x.length() / ((long) n * c));
        FloatBuffer data = x.data().asNioFloat();
        int offset = (int) x.offset();
        double[] means = new double[c], vars = new double[c];
        ActivationPasses.forEach(c, (long) n * plane, (from, to) -> {
            float[] xv = ActivationPasses.scratch(0, plane);
            for (int j = from; j < to; j++) {
                double mu = 0, m2 = 0;
                for (int i = 0; i < n; i++) {
                    data.get(offset + (i * c + j) * plane, xv, 0, plane);
                    float shift = xv[0];
                    double s0 = 0, s1 = 0, s2 = 0, s3 = 0, q0 = 0, q1 = 0, q2 = 0, q3 = 0;
                    int k = 0;
                    for (; k + 3 < plane; k += 4) {   // four independent sums, so that the adds overlap
                        double d0 = xv[k] - shift, d1 = xv[k + 1] - shift, d2 = xv[k + 2] - shift, d3 = xv[k + 3] - shift;
                        s0 += d0; s1 += d1; s2 += d2; s3 += d3;
                        q0 += d0 * d0; q1 += d1 * d1; q2 += d2 * d2; q3 += d3 * d3;
                    }
                    for (; k < plane; k++) {
                        double d = xv[k] - shift;
                        s0 += d;
                        q0 += d * d;
                    }
                    double sum = (s0 + s1) + (s2 + s3);
                    double planeMean = shift + sum / plane, planeM2 = ((q0 + q1) + (q2 + q3)) - sum * sum / plane;
                    if (i == 0) {
                        mu = planeMean;
                        m2 = planeM2;
                    } else {
                        double before = (double) i * plane, total = before + plane, delta = planeMean - mu;
                        mu += delta * plane / total;
                        m2 += planeM2 + delta * delta * before * plane / total;
                    }
                }
                means[j] = mu;
                vars[j] = m2 / ((double) n * plane);
            }
        });
        for (int j = 0; j < c; j++) {
            mean.putScalar(j, means[j]);
            var.putScalar(j, vars[j]);
        }
    }

    /**
     * out = gamma * (x - mean) / sqrt(var + eps) + beta per channel of NCHW {@code x}: libnd4j's inference
     * {@code batchnorm} op (oneDNN's plain-layout kernel). A Java pass was faster (a 32x96x56x56 activation, 2 threads:
     * 6 ms against 9 ms) but rounds differently by an ulp here and there, and that moved resnet18's gradients against
     * the double-precision reference in {@code OneDnnHelpersTest} by 5% (a ReLU or max-pool decision turning the
     * other way), so the forward stays oneDNN's.
     */
    private static void normalize(INDArray x, INDArray mean, INDArray var, INDArray gamma, INDArray beta, double eps,
                                  INDArray out) {
        Nd4j.exec(DynamicCustomOp.builder("batchnorm")
                .addInputs(x, mean, var, gamma, beta)
                .addOutputs(out)
                .addIntegerArguments(1, 1, 1)   // apply scale, apply offset, channel axis 1
                .addFloatingPointArguments(eps)
                .build());
    }

    /**
     * Batch norm's backward for contiguous NCHW float {@code x} and {@code dy}, given the forward's batch
     * {@code mean} and {@code var}: dbeta and dgamma into their views, the input gradient into {@code dx}. Two passes
     * over the activations, each split between ND4J's threads: the first sums dy and dy * x per channel (in double),
     * the second writes dx = k1 * dy + k2 * x + k3 per channel, where, with M = N*H*W and
     * xhat = (x - mean) * invstd, gamma * invstd * (dy - dbeta/M - xhat * dgamma/M) has been expanded.
     * dgamma = sum(dy * xhat) = invstd * (sum(dy * x) - mean * dbeta) is a difference of double sums, so it keeps its
     * digits even where |mean| is many times the standard deviation.
     */
    static void inputGradient(INDArray x, INDArray dy, INDArray gamma, INDArray mean, INDArray var, double eps,
                              INDArray dGamma, INDArray dBeta, INDArray dx) {
        int n = (int) x.size(0), c = (int) x.size(1);
        int plane = (int) (x.length() / ((long) n * c));
        double m = (double) n * plane;
        FloatBuffer xs = x.data().asNioFloat(), dys = dy.data().asNioFloat(), dxs = dx.data().asNioFloat();
        int xAt = (int) x.offset(), dyAt = (int) dy.offset(), dxAt = (int) dx.offset();
        float[] mu = mean.toFloatVector(), v = var.toFloatVector(), scale = gamma.toFloatVector();
        double[] sumDy = new double[c], sumDyX = new double[c];
        ActivationPasses.forEach(c, (long) n * plane, (from, to) -> {
            float[] xv = ActivationPasses.scratch(0, plane), gv = ActivationPasses.scratch(1, plane);
            for (int j = from; j < to; j++) {
                for (int i = 0; i < n; i++) {
                    xs.get(xAt + (i * c + j) * plane, xv, 0, plane);
                    dys.get(dyAt + (i * c + j) * plane, gv, 0, plane);
                    double s0 = 0, s1 = 0, s2 = 0, s3 = 0, p0 = 0, p1 = 0, p2 = 0, p3 = 0;
                    int k = 0;
                    for (; k + 3 < plane; k += 4) {
                        float g0 = gv[k], g1 = gv[k + 1], g2 = gv[k + 2], g3 = gv[k + 3];
                        s0 += g0; s1 += g1; s2 += g2; s3 += g3;
                        p0 += (double) g0 * xv[k]; p1 += (double) g1 * xv[k + 1];
                        p2 += (double) g2 * xv[k + 2]; p3 += (double) g3 * xv[k + 3];
                    }
                    for (; k < plane; k++) {
                        s0 += gv[k];
                        p0 += (double) gv[k] * xv[k];
                    }
                    sumDy[j] += (s0 + s1) + (s2 + s3);
                    sumDyX[j] += (p0 + p1) + (p2 + p3);
                }
            }
        });
        float[] k1 = new float[c], k2 = new float[c], k3 = new float[c];
        for (int j = 0; j < c; j++) {
            double invStd = 1.0 / Math.sqrt(v[j] + eps), g = (sumDyX[j] - mu[j] * sumDy[j]) * invStd;
            double a = scale[j] * invStd, b = -a * invStd * g / m;
            dBeta.putScalar(j, sumDy[j]);
            dGamma.putScalar(j, g);
            k1[j] = (float) a;
            k2[j] = (float) b;
            k3[j] = (float) (-a * sumDy[j] / m - b * mu[j]);
        }
        ActivationPasses.forEach(n * c, plane, (from, to) -> {
            float[] xv = ActivationPasses.scratch(0, plane), gv = ActivationPasses.scratch(1, plane);
            float[] out = ActivationPasses.scratch(2, plane);
            for (int p = from; p < to; p++) {
                int j = p % c;
                float a = k1[j], b = k2[j], d = k3[j];
                xs.get(xAt + p * plane, xv, 0, plane);
                dys.get(dyAt + p * plane, gv, 0, plane);
                for (int k = 0; k < plane; k++) {
                    out[k] = a * gv[k] + (b * xv[k] + d);
                }
                dxs.put(dxAt + p * plane, out, 0, plane);
            }
        });
    }

    private void constants(long c) {
        if (meanCache == null || meanCache.length() != c) {
            try (MemoryWorkspace ignored = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                meanCache = Nd4j.create(DataType.FLOAT, c);
                varCache = Nd4j.create(DataType.FLOAT, c);
            }
        }
    }

    private static INDArray flat(INDArray a) {
        return a.rank() == 1 ? a : a.reshape(a.length());
    }


    @Override
    public INDArray getMeanCache(DataType dataType) {
        return delegated ? others.getMeanCache(dataType) : meanCache;
    }

    @Override
    public INDArray getVarCache(DataType dataType) {
        return delegated ? others.getVarCache(dataType) : varCache;
    }

    @Override
    public Map<String, Long> helperMemoryUse() {
        Map<String, Long> use = new HashMap<>();
        if (meanCache != null) {
            use.put("meanCache", meanCache.length() * 4);
            use.put("varCache", varCache.length() * 4);
        }
        return use;
    }
}
