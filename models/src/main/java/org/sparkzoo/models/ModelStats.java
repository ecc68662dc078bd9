package org.sparkzoo.models;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Sizes of a network read from its configuration alone (no parameters are allocated): trainable parameters,
 * all parameters, and multiply-adds of one forward pass.
 */
public final class ModelStats {
    /** Batch-norm running statistics: DL4J stores them as parameters, they are not trained by gradient descent. */
    private static final Set<String> NON_TRAINABLE = Set.of(BatchNormalizationParamInitializer.GLOBAL_MEAN,
            BatchNormalizationParamInitializer.GLOBAL_VAR, BatchNormalizationParamInitializer.GLOBAL_LOG_STD);

    private ModelStats() {
    }

    /** What DL4J's numParams() reports: trainable parameters plus batch-norm running mean and variance (as Keras' count_params()). */
    public static long allParams(ComputationGraphConfiguration conf) {
        return count(conf, conf.getVertices().keySet(), false);
    }

    /** Parameters that gradient descent updates (what torchvision's tables count). */
    public static long trainableParams(ComputationGraphConfiguration conf) {
        return count(conf, conf.getVertices().keySet(), true);
    }

    /** Trainable parameters of the part of the graph that output 0 (the main classifier) depends on: no auxiliary heads. */
    public static long trainableParamsMainOutput(ComputationGraphConfiguration conf) {
        return count(conf, ancestors(conf, conf.getNetworkOutputs().get(0)), true);
    }

    private static long count(ComputationGraphConfiguration conf, Set<String> vertices, boolean trainableOnly) {
        long total = 0;
        for (String name : vertices) {
            GraphVertex v = conf.getVertices().get(name);
            if (v instanceof LayerVertex) {
                Layer layer = ((LayerVertex) v).getLayerConf().getLayer();
                long n = layer.initializer().numParams(layer);
                if (trainableOnly && n > 0) {
                    List<String> keys = layer.initializer().paramKeys(layer);
                    long frozen = keys.stream().filter(NON_TRAINABLE::contains).count();
                    // every batch-norm parameter array has one value per channel, so the split is proportional
                    n = n * (keys.size() - frozen) / keys.size();
                }
                total += n;
            } else if (v != null) {
                total += v.numParams(true);
            }
        }
        return total;
    }

    private static Set<String> ancestors(ComputationGraphConfiguration conf, String output) {
        Set<String> seen = new HashSet<>();
        Deque<String> todo = new ArrayDeque<>(List.of(output));
        while (!todo.isEmpty()) {
            String v = todo.pop();
            if (seen.add(v)) {
                todo.addAll(conf.getVertexInputs().getOrDefault(v, List.of()));
            }
        }
        return seen;
    }

    /**
     * Whether every convolution and pooling window fits its (padded) input for that input size, i.e. no layer's
     * output shrinks below 1x1. DL4J's own shape inference is not enough: its integer division rounds a negative
     * (input + 2 pad - kernel) towards zero and reports a 1x1 map where the kernels would produce nothing.
     */
    public static boolean windowsFit(ComputationGraphConfiguration conf, int channels, int height, int width) {
        Map<String, InputType> out = conf.getLayerActivationTypes(InputType.convolutional(height, width, channels));
        for (Map.Entry<String, GraphVertex> e : conf.getVertices().entrySet()) {
            if (!(e.getValue() instanceof LayerVertex)) {
                continue;
            }
            Layer layer = ((LayerVertex) e.getValue()).getLayerConf().getLayer();
            int[] kernel;
            int[] padding;
            int[] dilation;
            if (layer instanceof ConvolutionLayer) {
                ConvolutionLayer c = (ConvolutionLayer) layer;
                kernel = c.getKernelSize();
                padding = c.getPadding();
                dilation = c.getDilation();
            } else if (layer instanceof SubsamplingLayer) {
                SubsamplingLayer p = (SubsamplingLayer) layer;
                kernel = p.getKernelSize();
                padding = p.getPadding();
                dilation = p.getDilation();
            } else {
                continue;
            }
            String input = conf.getVertexInputs().get(e.getKey()).get(0);
            InputType in = conf.getNetworkInputs().contains(input)
                    ? InputType.convolutional(height, width, channels) : out.get(input);
            InputType.InputTypeConvolutional c = (InputType.InputTypeConvolutional) in;
            long[] side = {c.getHeight(), c.getWidth()};
            for (int d = 0; d < 2; d++) {
                long effectiveKernel = (long) (kernel[d] - 1) * dilation[d] + 1;
                if (side[d] + 2L * padding[d] < effectiveKernel) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Multiply-adds of one image's forward pass through convolutions (k_h k_w C_in / groups x C_out x H_out W_out;
     * depthwise and separable convolutions counted as their depthwise and pointwise parts) and fully connected layers
     * (in x out). Batch norm, pooling, activations and additions are not counted (as in torchvision's table).
     */
    public static long multiplyAdds(ComputationGraphConfiguration conf, int channels, int height, int width) {
        Map<String, InputType> out = conf.getLayerActivationTypes(InputType.convolutional(height, width, channels));
        long total = 0;
        for (Map.Entry<String, GraphVertex> e : conf.getVertices().entrySet()) {
            if (!(e.getValue() instanceof LayerVertex)) {
                continue;
            }
            Layer layer = ((LayerVertex) e.getValue()).getLayerConf().getLayer();
            if (layer instanceof ConvolutionLayer) {
                ConvolutionLayer c = (ConvolutionLayer) layer;
                InputType.InputTypeConvolutional o = (InputType.InputTypeConvolutional) out.get(e.getKey());
                long positions = o.getHeight() * o.getWidth();
                long window = (long) c.getKernelSize()[0] * c.getKernelSize()[1];
                if (layer instanceof SeparableConvolution2D) {
                    SeparableConvolution2D s = (SeparableConvolution2D) layer;
                    long mid = c.getNIn() * s.getDepthMultiplier();
                    total += positions * (window * mid + mid * c.getNOut());
                } else if (layer instanceof DepthwiseConvolution2D) {
                    total += positions * window * c.getNOut();
                } else {
                    total += positions * window * c.getNIn() * c.getNOut();
                }
            } else if (layer instanceof FeedForwardLayer && layer.initializer().numParams(layer) > 0) {
                FeedForwardLayer f = (FeedForwardLayer) layer;
                if (!(layer instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization)) {
                    total += f.getNIn() * f.getNOut();
                }
            }
        }
        return total;
    }
}
