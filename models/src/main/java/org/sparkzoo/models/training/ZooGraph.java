package org.sparkzoo.models.training;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.impl.ElementWiseVertex;
import org.deeplearning4j.nn.graph.vertex.impl.LayerVertex;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.layers.ActivationLayer;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.convolution.DepthwiseConvolution2DLayer;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelpers;
import org.deeplearning4j.nn.layers.normalization.BatchNormHelpers;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkzoo.models.vertices.BroadcastProductVertex;

import java.util.List;

/**
 * The ComputationGraph the zoo and the training workers build: DL4J's, with sparkzoo's kernels at the seams DL4J
 * offers (an overridable method, its layers' helpers). The weight-decay penalty is {@link Losses#penalty}'s: DL4J adds the penalty to the score of every minibatch
 * it fits (it is not part of the gradient, which the regularizations apply in the updater), and its own sum costs
 * ResNet-50 at 32x32 35-39 ms a minibatch on one core. The batch-norm layers train with {@link BatchNormHelper} where
 * DL4J gave them its oneDNN helper, and the convolutions that read the network's input with {@link InputConvHelper},
 * which skips the gradient with respect to the images; the convolutions keep their forward output for the backward
 * pass (DL4J's cache mode) instead of recomputing it, and ReLU and ReLU6 layers are {@link RectifierLayer}s, which
 * skip DL4J's two copies of their input, depthwise convolutions are {@link DepthwiseLayer}s, which skip the second
 * forward pass DL4J runs in their backward, convolutions with the identity activation are
 * {@link LinearConvolutionLayer}s, which need no kept output at all, and squeeze-and-excitation's channel gates are
 * applied by a {@link ChannelScaleVertex}, which skips the tiling of the gates in the backward of DL4J's product;
 * convolution and dense layers with a plain ReLU take its derivative from {@link Rectifier}, which skips
 * {@code relu_bp}'s per-element function calls. The other convolutions run on oneDNN 3 called directly
 * ({@link OneDnnConvHelper}) instead of through libnd4j.
 * Everything else is DL4J's; saved models are plain ComputationGraphs (the class is not part of the configuration).
 */
public class ZooGraph extends ComputationGraph {
    private static final long serialVersionUID = 1L;
    /** {@code -Dsparkzoo.kernels=dl4j} keeps DL4J's own oneDNN helpers (to compare, or to match stock DL4J bit for bit). */
    public static final String KERNELS_PROPERTY = "sparkzoo.kernels";

    public ZooGraph(ComputationGraphConfiguration configuration) {
        super(configuration);
    }

    @Override
    public void init(INDArray parameters, boolean cloneParametersArray) {
        boolean fresh = !initCalled;
        super.init(parameters, cloneParametersArray);
        if (fresh && !"dl4j".equals(System.getProperty(KERNELS_PROPERTY))) {
            // A convolution's backward pass needs its pre-activation output; with DL4J's default cache mode (NONE)
            // ConvolutionLayer recomputes it, i.e. runs the whole forward convolution a second time. Any other mode
            // keeps a copy in the activations workspace during the forward pass (ComputationGraph opens FF_CACHE
            // there when its configuration's mode is not NONE; the layers read their own field).
            configuration.setCacheMode(CacheMode.DEVICE);
            setCacheMode(CacheMode.DEVICE);
            for (Layer layer : getLayers()) {
                BatchNormHelpers.replaceOneDnnHelper(layer, () -> new BatchNormHelper(configuration.getDataType()));
            }
            List<String> inputs = configuration.getNetworkInputs();
            for (GraphVertex vertex : getVertices()) {
                if (vertex instanceof LayerVertex && ((LayerVertex) vertex).getLayerPreProcessor() == null
                        && inputs.containsAll(configuration.getVertexInputs().get(vertex.getVertexName()))
                        && vertex.getLayer().conf().getLayer().getIDropout() == null) {
                    ConvolutionHelpers.replaceOneDnnHelper(vertex.getLayer(), () -> new InputConvHelper(configuration.getDataType()));
                }
            }
            if (OneDnnConvHelper.enabled()) {
                for (Layer layer : getLayers()) {
                    ConvolutionHelpers.replaceOneDnnHelper(layer, () -> new OneDnnConvHelper(configuration.getDataType()));
                }
            }
            replaceLayers();
            replaceRectifiers();
            replaceVertices();
        }
    }

    /**
     * Puts a {@link RectifierLayer} in place of each of DL4J's activation layers that computes ReLU or ReLU6, a
     * {@link DepthwiseLayer} in place of each depthwise convolution with the identity activation, and a
     * {@link LinearConvolutionLayer} in place of each plain convolution with the identity activation (keeping the
     * helper it was given above).
     */
    private void replaceLayers() {
        for (GraphVertex vertex : getVertices()) {
            if (!(vertex instanceof LayerVertex)) {
                continue;
            }
            Layer stock = vertex.getLayer();
            org.deeplearning4j.nn.conf.layers.Layer conf = stock.conf().getLayer();
            Layer replacement = null;
            if (stock.getClass() == ActivationLayer.class
                    && RectifierLayer.takes(((org.deeplearning4j.nn.conf.layers.ActivationLayer) conf).getActivationFn())) {
                replacement = new RectifierLayer(stock.conf(), configuration.getDataType());
            } else if (stock.getClass() == DepthwiseConvolution2DLayer.class && DepthwiseLayer.takes((DepthwiseConvolution2D) conf)) {
                replacement = new DepthwiseLayer(stock.conf(), configuration.getDataType());
            } else if (stock.getClass() == ConvolutionLayer.class
                    && LinearConvolutionLayer.takes((org.deeplearning4j.nn.conf.layers.ConvolutionLayer) conf)) {
                replacement = new LinearConvolutionLayer(stock.conf(), configuration.getDataType());
                ConvolutionHelpers.copyHelper((ConvolutionLayer) stock, (ConvolutionLayer) replacement);
            }
            if (replacement != null && stock.numParams() > 0) {
                replacement.setParamsViewArray(stock.params());
                replacement.setParamTable(stock.paramTable());
                INDArray gradients = ((BaseLayer<?>) stock).getGradientsViewArray();
                if (gradients != null) {
                    replacement.setBackpropGradientsViewArray(gradients);
                }
            }
            if (replacement == null) {
                continue;
            }
            replacement.setIndex(stock.getIndex());
            replacement.setListeners(stock.getListeners());
            replacement.setCacheMode(CacheMode.DEVICE);
            ((LayerVertex) vertex).setLayer(replacement);
            for (int i = 0; i < layers.length; i++) {
                if (layers[i] == stock) {
                    layers[i] = replacement;
                }
            }
        }
    }

    /**
     * Gives each convolution and dense layer whose activation is plain ReLU the {@link Rectifier}, through a copy of
     * its layer configuration (the layer reads its activation from there at every pass); the graph's configuration,
     * the one saved with the model, keeps DL4J's {@code ActivationReLU}.
     */
    private void replaceRectifiers() {
        for (Layer layer : getLayers()) {
            boolean takesIt = layer.getClass() == ConvolutionLayer.class || layer.getClass() == org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer.class;
            if (!takesIt) {
                continue;
            }
            IActivation fn = ((org.deeplearning4j.nn.conf.layers.BaseLayer) layer.conf().getLayer()).getActivationFn();
            if (fn.getClass() == ActivationReLU.class && RectifierLayer.takes(fn)) {
                NeuralNetConfiguration own = layer.conf().clone();
                ((org.deeplearning4j.nn.conf.layers.BaseLayer) own.getLayer()).setActivationFn(new Rectifier());
                layer.setConf(own);
            }
        }
    }

    /** Puts a {@link ChannelScaleVertex} in place of DL4J's element-wise product where the zoo scales channels by gates. */
    private void replaceVertices() {
        for (int i = 0; i < vertices.length; i++) {
            GraphVertex stock = vertices[i];
            if (stock instanceof ElementWiseVertex && configuration.getDataType() == DataType.FLOAT
                    && configuration.getVertices().get(stock.getVertexName()) instanceof BroadcastProductVertex) {
                GraphVertex replacement = new ChannelScaleVertex(this, stock, configuration.getDataType());
                replacement.setOutputVertex(stock.isOutputVertex());
                vertices[i] = replacement;
                verticesMap.put(stock.getVertexName(), replacement);
            }
        }
    }

    @Override
    public double calcRegularizationScore(boolean backpropParamsOnly) {
        return Losses.penalty(this, backpropParamsOnly);
    }
}
