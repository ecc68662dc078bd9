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
import org.nd4j.linalg.api.ops.impl.reduce.same.Sum;
import org.nd4j.linalg.api.ops.impl.reduce3.Dot;
import org.nd4j.linalg.api.ops.impl.summarystats.Variance;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

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
 * activations (mobilenet_v2 at 112 px: 11% of a training step). Here, with M = N*H*W and xhat = (x - mean) * invstd:
 * <ul>
 *   <li>dbeta = sum(dy), from sums along each (n, c) plane, which are contiguous, then over n;</li>
 *   <li>dgamma = sum(dy * xhat) = invstd * (sum(dy * x) - mean * dbeta), one dot product per channel (the
 *       difference loses digits when |mean| is many times the standard deviation: 6e-6 of a double-precision
 *       reference on resnet18, as close as DL4J's own kernels);</li>
 *   <li>the input gradient gamma * invstd * (dy - dbeta/M - xhat * dgamma/M) = k1 * dy + (k2 * x + k3) per channel:
 *       two oneDNN passes of libnd4j's inference {@code batchnorm} op, used as a per-channel affine map, and an add.</li>
 * </ul>
 * The forward's mean and variance come from {@link #channelMoments}, one pass in double on the calling thread. A
 * float-accumulated variance (centred input, then a dot product) was tried first and dropped: 4e-6 off, enough to
 * move ReLU and max-pool decisions and resnet18's gradients by 4%. {@code OneDnnHelpersTest} holds the gradients to
 * a double-precision reference, as it holds DL4J's own helpers.
 */
public final class BatchNormHelper implements BatchNormalizationHelper {
    private final MKLDNNBatchNormHelper others;
    private boolean delegated;
    private INDArray meanCache;
    private INDArray varCache;
    private INDArray zeros;
    private INDArray ones;

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
        return x.dataType() == DataType.FLOAT && x.rank() == 4 && format == CNN2DFormat.NCHW;
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
            affine(x, flat(mean), flat(var), g, b, eps, out);
            return out;
        }
        x = contiguous(x);
        constants(x.size(1));
        channelMoments(x, meanCache, varCache);
        affine(x, meanCache, varCache, g, b, eps, out);
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray epsilon, long[] shape, INDArray gamma,
                                                     INDArray beta, INDArray dGammaView, INDArray dBetaView, double eps,
                                                     CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        if (delegated) {
            return others.backpropGradient(input, epsilon, shape, gamma, beta, dGammaView, dBetaView, eps, format, workspaceMgr);
        }
        INDArray x = contiguous(input), dy = contiguous(epsilon);
        long n = x.size(0), c = x.size(1), m = x.length() / c;
        INDArray planeSums = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, DataType.FLOAT, n, c);
        Nd4j.exec(new Sum(dy.reshape('c', n, c, m / n), planeSums, 2));
        INDArray dBeta = flat(dBetaView);
        planeSums.sum(dBeta, 0);
        INDArray dGamma = flat(dGammaView);
        Nd4j.exec(new Dot(dy, x, dGamma, 0, 2, 3));
        INDArray invStd = Transforms.sqrt(varCache.add(eps), false).rdivi(1.0);
        dGamma.subi(meanCache.mul(dBeta)).muli(invStd);
        INDArray k1 = flat(gamma).mul(invStd);
        INDArray k2 = k1.mul(invStd).muli(dGamma).divi(-m);
        INDArray k3 = k1.mul(dBeta).divi(-m).subi(k2.mul(meanCache));
        INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, x.dataType(), x.shape());
        INDArray fromX = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, x.dataType(), x.shape());
        affine(dy, zeros, ones, k1, zeros, 0.0, dx);
        affine(x, zeros, ones, k2, k3, 0.0, fromX);
        dx.addi(fromX);
        Gradient gradient = new DefaultGradient();
        gradient.setGradientFor(BatchNormalizationParamInitializer.GAMMA, dGammaView);
        gradient.setGradientFor(BatchNormalizationParamInitializer.BETA, dBetaView);
        return new Pair<>(gradient, dx);
    }

    /**
     * The batch mean and (biased) variance per channel of contiguous NCHW float {@code x}, into {@code mean} and
     * {@code var}: one pass over the activations on the calling thread, in double. Each (n, c) plane, which is
     * contiguous, is summed as deviations from its first element (so the sum of squares does not cancel), and the
     * planes of a channel are combined by Chan et al.'s pairwise update. Exact to float rounding, as libnd4j's
     * {@code Variance} is, and 3-4x faster than it on two threads: libnd4j updates a generic running mean and
     * variance with a division per element (about 3 ns an element, the largest kernel outside the convolutions in
     * resnet50's, mobilenet_v2's and densenet121's step).
     */
    static void channelMoments(INDArray x, INDArray mean, INDArray var) {
        int n = (int) x.size(0), c = (int) x.size(1);
        int plane = (int) (x.length() / ((long) n * c));
        if (x.data().length() > Integer.MAX_VALUE) {   // past a Java buffer's index: libnd4j's reductions, in float
            x.mean(mean, 0, 2, 3);
            Nd4j.exec(new Variance(x, var, false, 0, 2, 3));
            return;
        }
        FloatBuffer data = x.data().asNioFloat();
        int offset = (int) x.offset();
        FloatBuffer meanOut = mean.data().asNioFloat(), varOut = var.data().asNioFloat();
        int meanAt = (int) mean.offset(), varAt = (int) var.offset();
        for (int j = 0; j < c; j++) {
            double mu = 0, m2 = 0;
            for (int i = 0; i < n; i++) {
                int base = offset + (i * c + j) * plane;
                float shift = data.get(base);
                double s0 = 0, s1 = 0, s2 = 0, s3 = 0, q0 = 0, q1 = 0, q2 = 0, q3 = 0;
                int k = 0;
                for (; k + 3 < plane; k += 4) {   // four independent sums, so that the adds overlap
                    double d0 = data.get(base + k) - shift, d1 = data.get(base + k + 1) - shift;
                    double d2 = data.get(base + k + 2) - shift, d3 = data.get(base + k + 3) - shift;
                    s0 += d0; s1 += d1; s2 += d2; s3 += d3;
                    q0 += d0 * d0; q1 += d1 * d1; q2 += d2 * d2; q3 += d3 * d3;
                }
                for (; k < plane; k++) {
                    double d = data.get(base + k) - shift;
                    s0 += d;
                    q0 += d * d;
                }
                double sum = s0 + s1 + s2 + s3;
                double planeMean = shift + sum / plane, planeM2 = (q0 + q1 + q2 + q3) - sum * sum / plane;
                if (i == 0) {
                    mu = planeMean;
                    m2 = planeM2;
                } else {
                    double before = (double) i * plane, total = before + plane, delta = planeMean - mu;
                    mu += delta * plane / total;
                    m2 += planeM2 + delta * delta * before * plane / total;
                }
            }
            meanOut.put(meanAt + j, (float) mu);
            varOut.put(varAt + j, (float) (m2 / ((double) n * plane)));
        }
    }

    /** out = scale * (x - shift) / sqrt(var + eps) + offset per channel of NCHW x: libnd4j's batchnorm op (oneDNN). */
    private static void affine(INDArray x, INDArray shift, INDArray var, INDArray scale, INDArray offset, double eps,
                               INDArray out) {
        Nd4j.exec(DynamicCustomOp.builder("batchnorm")
                .addInputs(x, shift, var, scale, offset)
                .addOutputs(out)
                .addIntegerArguments(1, 1, 1)   // apply scale, apply offset, channel axis 1
                .addFloatingPointArguments(eps)
                .build());
    }

    private void constants(long c) {
        if (meanCache == null || meanCache.length() != c) {
            try (MemoryWorkspace ignored = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                meanCache = Nd4j.create(DataType.FLOAT, c);
                varCache = Nd4j.create(DataType.FLOAT, c);
                zeros = Nd4j.zeros(DataType.FLOAT, c);
                ones = Nd4j.ones(DataType.FLOAT, c);
            }
        }
    }

    private static INDArray flat(INDArray a) {
        return a.rank() == 1 ? a : a.reshape(a.length());
    }

    private static INDArray contiguous(INDArray a) {
        return a.ordering() == 'c' && Shape.hasDefaultStridesForShape(a) ? a : a.dup('c');
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
