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
 * The forward's mean comes from the same plane sums; its variance stays libnd4j's {@code Variance}, which
 * accumulates in double. A float-accumulated variance was 3x faster but 4e-6 off, enough to move ReLU and max-pool
 * decisions and resnet18's gradients by 4%. {@code OneDnnHelpersTest} holds the gradients to a double-precision
 * reference, as it holds DL4J's own helpers.
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
        long n = x.size(0), c = x.size(1), m = x.length() / c;
        constants(c);
        INDArray planeSums = workspaceMgr.createUninitialized(ArrayType.FF_WORKING_MEM, DataType.FLOAT, n, c);
        Nd4j.exec(new Sum(x.reshape('c', n, c, m / n), planeSums, 2));
        planeSums.sum(meanCache, 0).divi(m);
        Nd4j.exec(new Variance(x, varCache, false, 0, 2, 3));
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
