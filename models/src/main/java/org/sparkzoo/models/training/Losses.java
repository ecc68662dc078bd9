package org.sparkzoo.models.training;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.learning.regularization.WeightDecay;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * DL4J's {@code score()} is the data loss (the mean cross-entropy, plus the weighted auxiliary losses where a model
 * has auxiliary heads) <em>plus</em> the weight-decay penalty sum 0.5 c ||w||^2 at the parameters it was computed
 * at. torchvision reports the data loss alone; these take the two apart.
 *
 * <p>{@link #penalty} is DL4J's penalty ({@code calcRegularizationScore}) computed faster and more exactly: DL4J takes
 * each weight array's {@code norm2Number()}, libnd4j's reduction, which sums in float one element at a time (ResNet-50
 * at 32x32: 35-39 ms on one core, and 7.5% low on its 23.6M parameters as one array); here ||w||^2 is the BLAS dot
 * product of 256k-element pieces (float within a piece, double across them: 11 ms, within 1e-6 of a double sum).
 * DL4J computes the penalty at every minibatch, so {@link ZooGraph} uses this one.
 */
public final class Losses {
    /** Elements per BLAS dot product: float sums stay exact to ~1e-7 within a piece of this size. */
    private static final long PIECE = 1L << 18;
    /** Layer classes that keep BaseLayer's penalty (each parameter's regularizations, scored as they are). */
    private static final Map<Class<?>, Boolean> BASE_PENALTY = new ConcurrentHashMap<>();

    private Losses() {
    }

    /** The penalty DL4J adds to the score, at the network's current parameters (0 without weight decay). */
    public static double penalty(ComputationGraph net) {
        return penalty(net, true);
    }

    /** DL4J's {@code calcRegularizationScore(backpropParamsOnly)}, layer by layer. */
    static double penalty(ComputationGraph net, boolean backpropParamsOnly) {
        double sum = 0;
        for (Layer layer : net.getLayers()) {
            sum += penalty(layer, backpropParamsOnly);
        }
        return sum;
    }

    /**
     * One layer's penalty: BaseLayer's sum over its parameters and their regularizations, with L2 and weight decay
     * (both score 0.5 c ||w||^2) from {@link #squaredNorm}; any other layer or regularization as DL4J scores it.
     */
    static double penalty(Layer layer, boolean backpropParamsOnly) {
        if (!(layer instanceof BaseLayer) || !BASE_PENALTY.computeIfAbsent(layer.getClass(), Losses::keepsBasePenalty)) {
            return layer.calcRegularizationScore(backpropParamsOnly);
        }
        org.deeplearning4j.nn.conf.layers.BaseLayer conf = (org.deeplearning4j.nn.conf.layers.BaseLayer) layer.conf().getLayer();
        double sum = 0;
        for (Map.Entry<String, INDArray> p : layer.paramTable().entrySet()) {
            List<Regularization> regularizations = conf.getRegularizationByParam(p.getKey());
            if (regularizations == null) {
                continue;
            }
            for (Regularization r : regularizations) {
                double c;
                if (r.getClass() == L2Regularization.class) {
                    c = ((L2Regularization) r).getL2().valueAt(layer.getIterationCount(), layer.getEpochCount());
                } else if (r.getClass() == WeightDecay.class) {
                    c = ((WeightDecay) r).getCoeff().valueAt(layer.getIterationCount(), layer.getEpochCount());
                } else {
                    sum += r.score(p.getValue(), layer.getIterationCount(), layer.getEpochCount());
                    continue;
                }
                sum += 0.5 * c * squaredNorm(p.getValue());
            }
        }
        return sum;
    }

    /** Whether this layer class scores its penalty with BaseLayer's own method (it does not override it). */
    private static boolean keepsBasePenalty(Class<?> c) {
        try {
            return c.getMethod("calcRegularizationScore", boolean.class).getDeclaringClass() == BaseLayer.class;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    /** ||a||^2: BLAS dot products of pieces of the array's elements in memory order, summed in double. */
    static double squaredNorm(INDArray a) {
        if (a.dataType() != DataType.FLOAT && a.dataType() != DataType.DOUBLE) {
            double n = a.norm2Number().doubleValue();
            return n * n;
        }
        INDArray flat = a.reshape(a.ordering(), new long[]{a.length()}); // a view for the contiguous arrays parameters are
        long n = flat.length();
        if (n <= PIECE) {
            return Nd4j.getBlasWrapper().dot(flat, flat);
        }
        double sum = 0;
        for (long from = 0; from < n; from += PIECE) {
            INDArray piece = flat.get(NDArrayIndex.interval(from, Math.min(n, from + PIECE)));
            sum += Nd4j.getBlasWrapper().dot(piece, piece);
        }
        return sum;
    }

    /**
     * {@code score} without the penalty. Exact when {@code score} was computed at the network's current parameters
     * ({@code net.score(dataSet, false)}, or after {@code computeGradientAndScore}); after a fit step, or for an
     * averaged network with the mean score of its workers, the parameters moved by a few updates since, and the
     * result is off by the penalty's change over those steps (tiny next to the loss: lr x c x ||w||^2 per step).
     */
    public static double dataLoss(double score, ComputationGraph net) {
        return score - penalty(net);
    }
}
