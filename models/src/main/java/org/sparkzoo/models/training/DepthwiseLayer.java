package org.sparkzoo.models.training;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.DepthwiseConvolution2DLayer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * DL4J's depthwise convolution without the second forward pass in its backward. {@code DepthwiseConvolution2DLayer}
 * runs the whole depthwise convolution again in {@code backpropGradient} to get the pre-activation output it hands
 * the activation's derivative (it has no cache mode, unlike {@code ConvolutionLayer}); with the identity activation,
 * which every depthwise convolution in the zoo has (batch norm follows), the derivative ignores that output and passes
 * the incoming gradient through. Here the backward hands the derivative the incoming gradient in its place: the same
 * {@code depthwise_conv2d_bp} call on the same arrays, without the forward. {@link ZooGraph} puts it in place of the
 * depthwise layers it can take ({@link #takes}); the configuration is untouched.
 */
final class DepthwiseLayer extends DepthwiseConvolution2DLayer {
    private static final long serialVersionUID = 1L;
    private transient INDArray incoming;

    DepthwiseLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    /** A depthwise convolution with the identity activation and no weight noise, whose backward needs no forward. */
    static boolean takes(DepthwiseConvolution2D conf) {
        return conf.getActivationFn() instanceof ActivationIdentity && conf.getWeightNoise() == null;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        incoming = epsilon;
        try {
            return super.backpropGradient(epsilon, workspaceMgr);
        } finally {
            incoming = null;
        }
    }

    @Override
    protected Pair<INDArray, INDArray> preOutput4d(boolean training, boolean forBackprop, LayerWorkspaceMgr workspaceMgr) {
        if (forBackprop && incoming != null) {
            return new Pair<>(incoming, null);   // the identity's derivative reads only its shape
        }
        return super.preOutput4d(training, forBackprop, workspaceMgr);
    }
}
