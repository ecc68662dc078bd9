package org.sparkzoo.models.blocks;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.graph.ScaleVertex;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.conf.layers.convolutional.Cropping2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.vertices.BroadcastProductVertex;
import org.sparkzoo.models.vertices.DropPathVertex;
import org.sparkzoo.models.vertices.DropoutVertex;
import org.sparkzoo.models.vertices.FractalJoinVertex;
import org.sparkzoo.models.vertices.RegularizedBatchNormalization;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Owns the string names of a DL4J graph so that a block reads like the paper's figure: every method adds one
 * vertex and returns its name, to be passed to the next call. Names are scoped ({@link #scope(String)}) and
 * made unique here, never glued together by callers.
 */
public final class Graph {
    public static final String INPUT = "input";
    public static final String OUTPUT = "output";

    private final ComputationGraphConfiguration.GraphBuilder builder;
    private final ModelConfig config;
    private final Map<String, Integer> used = new HashMap<>();
    private String scope = "";

    private Graph(ComputationGraphConfiguration.GraphBuilder builder, ModelConfig config) {
        this.builder = builder;
        this.config = config;
    }

    /**
     * A graph with one image input ({@value #INPUT}), the config's updater and weight decay, and the given
     * default weight initialization (He/Kaiming for ReLU networks). Weight decay of either kind reaches weights,
     * biases and (through {@link RegularizedBatchNormalization}) batch-norm gamma and beta, as in torch.optim.
     */
    public static Graph create(ModelConfig config, WeightInit weightInit) {
        NeuralNetConfiguration.Builder nn = new NeuralNetConfiguration.Builder()
                .seed(config.seed)
                // follows ND4J's default floating type: float normally, double for gradient checks
                .dataType(Nd4j.defaultFloatingPointType())
                .updater(config.updater)
                .weightInit(weightInit)
                .convolutionMode(ConvolutionMode.Truncate);
        if (config.weightDecay > 0) {
            switch (config.weightDecayKind) {
                case L2:
                    nn.l2(config.weightDecay).l2Bias(config.weightDecay);
                    break;
                case DECOUPLED:
                    nn.weightDecay(config.weightDecay, true).weightDecayBias(config.weightDecay, true);
                    break;
                default:
                    throw new IllegalArgumentException("unknown weight decay kind " + config.weightDecayKind);
            }
        }
        ComputationGraphConfiguration.GraphBuilder b = nn.graphBuilder()
                .addInputs(INPUT)
                .setInputTypes(InputType.convolutional(config.height, config.width, config.channels));
        return new Graph(b, config);
    }

    public ModelConfig config() {
        return config;
    }

    /** The raw DL4J builder, for blocks that need a vertex this class has no method for. */
    public ComputationGraphConfiguration.GraphBuilder builder() {
        return builder;
    }

    /** Sets the name prefix for the following vertices, e.g. {@code "layer2.0"}; empty for none. */
    public Graph scope(String prefix) {
        this.scope = prefix == null ? "" : prefix;
        return this;
    }

    /** The current name prefix (to restore after a nested block). */
    public String currentScope() {
        return scope;
    }

    /** A unique vertex name for {@code base} in the current scope. */
    public String name(String base) {
        String full = scope.isEmpty() ? base : scope + "/" + base;
        int n = used.merge(full, 1, Integer::sum);
        return n == 1 ? full : full + "_" + n;
    }

    /** Adds any layer under a scoped unique name and returns that name. */
    public String layer(String base, Layer layer, String... inputs) {
        String name = name(base);
        builder.addLayer(name, layer, inputs);
        return name;
    }

    public String conv(String in, int nOut, int kernel, int stride, int padding, Activation activation) {
        return conv(in, nOut, kernel, kernel, stride, stride, padding, padding, activation, true);
    }

    /** A general 2D convolution (rectangular kernels for factorized 1xn / nx1 convolutions). */
    public String conv(String in, int nOut, int kh, int kw, int sh, int sw, int ph, int pw, Activation activation, boolean bias) {
        return layer("conv", new ConvolutionLayer.Builder(kh, kw).stride(sh, sw).padding(ph, pw)
                .nOut(nOut).activation(activation).hasBias(bias).build(), in);
    }

    public String batchNorm(String in) {
        return layer("bn", new RegularizedBatchNormalization(), in);
    }

    public String activation(String in, Activation activation) {
        return layer(activation.name().toLowerCase(java.util.Locale.ROOT), new ActivationLayer.Builder().activation(activation).build(), in);
    }

    /** conv (no bias) -> batch norm -> activation: the unit of most post-2015 networks. */
    public String convBnAct(String in, int nOut, int kernel, int stride, int padding, Activation activation) {
        String c = conv(in, nOut, kernel, kernel, stride, stride, padding, padding, Activation.IDENTITY, false);
        return activation(batchNorm(c), activation);
    }

    public String maxPool(String in, int kernel, int stride, int padding) {
        return layer("maxpool", new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(kernel, kernel)
                .stride(stride, stride).padding(padding, padding).build(), in);
    }

    public String avgPool(String in, int kernel, int stride, int padding) {
        return layer("avgpool", new SubsamplingLayer.Builder(PoolingType.AVG).kernelSize(kernel, kernel)
                .stride(stride, stride).padding(padding, padding).build(), in);
    }

    /**
     * Average pooling to an outSize x outSize map as PyTorch's adaptive pooling computes it for divisible sizes
     * (14 -> 4 is kernel 5 stride 3); a map already smaller than outSize is kept as is.
     */
    public String adaptiveAvgPool(String in, int outSize) {
        int size = (int) shape(in).getHeight();
        int out = Math.min(outSize, size);
        int stride = size / out;
        int kernel = size - (out - 1) * stride;
        return kernel == 1 && stride == 1 ? in : avgPool(in, kernel, stride, 0);
    }

    public String globalAvgPool(String in) {
        return layer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), in);
    }

    public String dense(String in, int nOut, Activation activation) {
        return layer("fc", new DenseLayer.Builder().nOut(nOut).activation(activation).build(), in);
    }

    /** Dropout with the probability of dropping a unit; masks reproducible per (seed, worker, step) ({@link DropoutVertex}). */
    public String dropout(String in, double dropProbability) {
        String name = name("dropout");
        builder.addVertex(name, new DropoutVertex(dropProbability), in);
        return name;
    }

    public String add(String... inputs) {
        String name = name("add");
        builder.addVertex(name, new ElementWiseVertex(ElementWiseVertex.Op.Add), inputs);
        return name;
    }

    public String concat(String... inputs) {
        String name = name("concat");
        builder.addVertex(name, new MergeVertex(), inputs);
        return name;
    }

    /** The softmax classifier over the config's classes, trained with cross-entropy (Glorot init: initial loss ~ ln(classes)). */
    public String classifier(String in, String name) {
        builder.addLayer(name, new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).weightInit(WeightInit.XAVIER)
                .nOut(config.numClasses).activation(Activation.SOFTMAX).build(), in);
        return name;
    }

    /**
     * An auxiliary softmax classifier whose cross-entropy is multiplied by {@code lossWeight} inside the layer: a
     * {@link LossMCXENT} with every class weighted {@code lossWeight} is exactly {@code lossWeight * CE}, so the
     * training side can give all outputs the same labels and sum the scores (GoogLeNet: total = CE + 0.3 aux1 + 0.3 aux2).
     */
    public String auxClassifier(String in, String name, double lossWeight) {
        LossMCXENT weighted = new LossMCXENT(Nd4j.valueArrayOf(new long[]{1, config.numClasses}, lossWeight));
        builder.addLayer(name, new OutputLayer.Builder(weighted).weightInit(WeightInit.XAVIER)
                .nOut(config.numClasses).activation(Activation.SOFTMAX).build(), in);
        return name;
    }

    /**
     * Softmax + cross-entropy on class scores that a convolution already produced (NiN, SqueezeNet end in a
     * 1x1 convolution with one map per class and global average pooling): a parameter-free loss layer.
     */
    public String softmaxLoss(String in, String name) {
        builder.addLayer(name, new LossLayer.Builder(LossFunctions.LossFunction.MCXENT).activation(Activation.SOFTMAX).build(), in);
        return name;
    }

    /** Dropout before a classifier: the config's rate if set (>= 0), else the paper's; none when the rate is 0. */
    public String classifierDropout(String in, double paperRate) {
        double p = config.dropout >= 0 ? config.dropout : paperRate;
        return p > 0 ? dropout(in, p) : in;
    }

    // ---- convolutions beyond the plain one

    /** conv (no bias) -> batch norm -> activation with a rectangular kernel (Inception's 1x7 / 7x1). */
    public String convBnAct(String in, int nOut, int kh, int kw, int stride, int ph, int pw, Activation activation) {
        String c = conv(in, nOut, kh, kw, stride, stride, ph, pw, Activation.IDENTITY, false);
        return activation(batchNorm(c), activation);
    }

    /** conv (no bias) -> batch norm, no activation (the last unit of a residual branch). */
    public String convBn(String in, int nOut, int kernel, int stride, int padding) {
        return batchNorm(conv(in, nOut, kernel, kernel, stride, stride, padding, padding, Activation.IDENTITY, false));
    }

    /** batch norm -> activation (pre-activation units). */
    public String bnAct(String in, Activation activation) {
        return activation(batchNorm(in), activation);
    }

    /** Depthwise convolution, one k x k filter per input channel (depth multiplier 1). */
    public String depthwiseConv(String in, int kernel, int stride, int padding, boolean bias) {
        return layer("dwconv", new DepthwiseConvolution2D.Builder(kernel, kernel).stride(stride, stride)
                .padding(padding, padding).depthMultiplier(1).activation(Activation.IDENTITY).hasBias(bias).build(), in);
    }

    /** Separable convolution: depthwise k x k then pointwise 1x1 to nOut maps, in one layer (Xception, NASNet). */
    public String separableConv(String in, int nOut, int kernel, int stride, int padding, boolean bias) {
        return layer("sepconv", new SeparableConvolution2D.Builder(kernel, kernel).stride(stride, stride)
                .padding(padding, padding).depthMultiplier(1).nOut(nOut).activation(Activation.IDENTITY).hasBias(bias).build(), in);
    }

    /** Local response normalization across 5 channels with AlexNet's constants (k=2, alpha=1e-4, beta=0.75). */
    public String lrn(String in) {
        return layer("lrn", new LocalResponseNormalization.Builder(2, 5, 1e-4, 0.75).build(), in);
    }

    public String zeroPad(String in, int top, int bottom, int left, int right) {
        return layer("pad", new ZeroPaddingLayer.Builder(top, bottom, left, right).build(), in);
    }

    public String crop(String in, int top, int bottom, int left, int right) {
        return layer("crop", new Cropping2D.Builder(top, bottom, left, right).build(), in);
    }

    /** Global average pooling that keeps [C,1,1] (squeeze-and-excitation gates are computed by 1x1 convs on it). */
    public String globalAvgPoolKeepDims(String in) {
        return layer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).collapseDimensions(false).build(), in);
    }

    // ---- vertices

    public String scale(String in, double factor) {
        String name = name("scale");
        builder.addVertex(name, new ScaleVertex(factor), in);
        return name;
    }

    /** x [C,H,W] times per-channel gates [C,1,1]. */
    public String multiply(String x, String gates) {
        String name = name("mul");
        builder.addVertex(name, new BroadcastProductVertex(), x, gates);
        return name;
    }

    /** Stochastic depth / drop-path on a branch; returns the input unchanged when p is 0. */
    public String dropPath(String in, double dropProbability) {
        if (dropProbability <= 0) {
            return in;
        }
        String name = name("droppath");
        builder.addVertex(name, new DropPathVertex(dropProbability), in);
        return name;
    }

    /** FractalNet's join: mean of the inputs, with local/global drop-path while training. */
    public String fractalJoin(int[] columns, int numColumns, double dropProbability, String... inputs) {
        if (inputs.length == 1) {
            return inputs[0];
        }
        String name = name("join");
        builder.addVertex(name, new FractalJoinVertex(columns, numColumns, dropProbability, 0.5), inputs);
        return name;
    }

    /**
     * The [channels, height, width] of a vertex already added. Builds a temporary configuration (linear in the
     * graph size): for the few places that adapt to the input size, such as auxiliary heads.
     */
    public InputType.InputTypeConvolutional shape(String vertex) {
        InputType t = builder.getLayerActivationTypes().get(vertex);
        if (!(t instanceof InputType.InputTypeConvolutional)) {
            throw new IllegalStateException(vertex + " is not a feature map: " + t);
        }
        return (InputType.InputTypeConvolutional) t;
    }

    /** Finishes the graph; the first output is the one evaluation uses. */
    public ComputationGraphConfiguration build(String... outputs) {
        ComputationGraphConfiguration conf = builder.setOutputs(outputs).build();
        for (org.deeplearning4j.nn.conf.graph.GraphVertex v : conf.getVertices().values()) {
            if (v instanceof LayerVertex && ((LayerVertex) v).getLayerConf().getLayer() instanceof BaseLayer) {
                // DL4J M2.1 merges the builder's WeightDecay into each layer once per configuration pass (it
                // de-duplicates only L1/L2), so every parameter would decay twice: keep one of each
                BaseLayer layer = (BaseLayer) ((LayerVertex) v).getLayerConf().getLayer();
                layer.setRegularization(distinct(layer.getRegularization()));
                layer.setRegularizationBias(distinct(layer.getRegularizationBias()));
            }
        }
        return conf;
    }

    private static List<Regularization> distinct(List<Regularization> regularizations) {
        return regularizations == null ? null : new ArrayList<>(new LinkedHashSet<>(regularizations));
    }
}
