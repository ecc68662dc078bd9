package org.sparkzoo.models.training;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.ActivationLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinear;
import org.nd4j.linalg.api.ops.impl.scalar.Relu6;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DL4J's activation layer for ReLU and ReLU6, with fewer passes over memory. DL4J's {@code ActivationLayer} copies its
 * input before applying the activation in place (forward) and again before the derivative overwrites it (backward),
 * because {@code IActivation} works in place; and libnd4j's {@code relu_bp} and {@code relu6_bp} call a
 * {@code std::function} per element. Here the forward writes the activation straight into its output (libnd4j's
 * {@code relu} / {@code relu6}, the ops DL4J runs), and the backward builds the derivative's 0/1 mask from the kept
 * input with libnd4j's vectorised {@code step} and multiplies: on a 32x96x56x56 float activation, 2 threads, the
 * backward takes 5.7 ms against {@code relu_bp}'s 12 ms (ReLU) and 11.6 ms against {@code relu6_bp}'s 51 ms (ReLU6),
 * before counting the copies. The input gradient is DL4J's wherever the incoming gradient is finite (where DL4J
 * gives 0, this gives 0 times the gradient: -0 for a negative one). {@link ZooGraph} puts it in place of the
 * activation layers it can take ({@link #takes}); the configuration is untouched, so saved models are plain DL4J.
 */
final class RectifierLayer extends ActivationLayer {
    private static final long serialVersionUID = 1L;
    /** The float below 6: libnd4j's step is x > cutoff, so this cutoff gives x >= 6, where relu6_bp gives 0. */
    private static final double BELOW_SIX = Math.nextDown(6.0f);
    private final boolean six;

    RectifierLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
        this.six = conf.getLayer() instanceof org.deeplearning4j.nn.conf.layers.ActivationLayer
                && ((org.deeplearning4j.nn.conf.layers.ActivationLayer) conf.getLayer()).getActivationFn() instanceof ActivationReLU6;
    }

    /** Whether {@code fn} is plain ReLU (no threshold, slope or cap) or ReLU6, which this layer computes. */
    static boolean takes(IActivation fn) {
        if (fn instanceof ActivationReLU6) {
            return true;
        }
        if (fn instanceof ActivationReLU) {
            ActivationReLU relu = (ActivationReLU) fn;
            return (relu.getMax() == null || relu.getMax() == 0.0) && relu.getThreshold() == null && relu.getNegativeSlope() == null;
        }
        return false;
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(false);
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, input.dataType(), input.shape(), 'c');
        Nd4j.exec(six ? new Relu6(input, out, 0.0) : new RectifiedLinear(input, out, 0.0));
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, input.dataType(), input.shape(), 'c');
        if (!six) {
            return new Pair<>(new DefaultGradient(), Rectifier.derivative(input, epsilon, dx));
        }
        Nd4j.exec(new Step(input, dx, 0.0));                  // 1 where x > 0
        INDArray capped = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, input.dataType(), input.shape(), 'c');
        Nd4j.exec(new Step(input, capped, BELOW_SIX));        // 1 where x >= 6
        dx.subi(capped);
        dx.muli(epsilon);
        return new Pair<>(new DefaultGradient(), dx);
    }
}
