package org.sparkzoo.models.training;

import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * DL4J's convolution for the identity activation (every convolution that batch norm follows), without the copy of
 * its output DL4J keeps for the backward pass. With a cache mode other than NONE, {@code ConvolutionLayer.activate}
 * duplicates each forward output into the cache workspace so that {@code backpropGradient} need not run the
 * convolution again (without it, it does); but the backward hands that output only to the activation's derivative,
 * and the identity's reads nothing of it but its shape. Here the backward hands the derivative the incoming
 * gradient in its place, as {@link DepthwiseLayer} does, and the layer keeps no copy (its cache mode stays NONE):
 * the same {@code conv2d_bp} call on the same arrays, one output's worth of memory traffic and workspace less per
 * convolution. {@link ZooGraph} puts it in place of the convolutions it can take ({@link #takes}), with the helper
 * the stock layer had; the configuration is untouched.
 */
final class LinearConvolutionLayer extends org.deeplearning4j.nn.layers.convolution.ConvolutionLayer {
    private static final long serialVersionUID = 1L;
    private transient INDArray incoming;

    LinearConvolutionLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
        super.setCacheMode(CacheMode.NONE);
    }

    /** A convolution with the identity activation and no weight noise, whose backward needs no forward output. */
    static boolean takes(ConvolutionLayer conf) {
        return conf.getActivationFn() instanceof ActivationIdentity && conf.getWeightNoise() == null;
    }

    /** Always NONE: the backward needs no kept output (the graph sets its own mode on every layer). */
    @Override
    public void setCacheMode(CacheMode mode) {
        super.setCacheMode(CacheMode.NONE);
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
        if (forBackprop && incoming != null && helper != null) {   // DL4J's own path needs its im2col buffer
            return new Pair<>(incoming, null);   // the identity's derivative reads only its shape
        }
        return super.preOutput4d(training, forBackprop, workspaceMgr);
    }
}
