package org.sparkzoo.jobs.explain;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.convolution.Convolution;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Zeiler and Fergus's deconvnet (2014, Fig. 1 and 2): the strongest activation of a convolution layer, all others
 * zeroed, projected back to pixels through unpooling with the forward pass's max-pool switches, rectification and
 * the transposed convolution with the layer's own filters. Not backprop: the ReLU acts on the signal going down.
 * Contrast normalization (LRN) is passed through, as in the paper. Works on networks whose feature part is a plain
 * chain of ReLU convolutions, LRN and max pools (LeNet, AlexNet, ZFNet, VGG); {@link #chain} is empty for others.
 */
public final class Deconvnet {
    private Deconvnet() {
    }

    /** One layer of the chain: its vertex, and the kernel, stride and padding of a convolution or pool. */
    public record Step(String vertex, String kind, int[] kernel, int[] stride, int[] padding) {
        boolean conv() {
            return "conv".equals(kind);
        }
    }

    /** The plain chain from the input up to the last convolution or pool before anything else; empty if there is none. */
    public static List<Step> chain(ComputationGraphConfiguration conf) {
        List<Step> steps = new ArrayList<>();
        if (conf.getNetworkInputs().size() != 1) {
            return steps;
        }
        String at = conf.getNetworkInputs().get(0);
        while (true) {
            String next = onlyConsumer(conf, at);
            if (next == null || !(conf.getVertices().get(next) instanceof LayerVertex lv) || lv.getPreProcessor() != null) {
                break;
            }
            Layer l = lv.getLayerConf().getLayer();
            if (l.getClass() == ConvolutionLayer.class) {
                ConvolutionLayer c = (ConvolutionLayer) l;
                if (!(c.getActivationFn() instanceof ActivationReLU) || c.getConvolutionMode() != ConvolutionMode.Truncate
                        || c.getDilation()[0] != 1 || c.getDilation()[1] != 1) {
                    break;
                }
                steps.add(new Step(next, "conv", c.getKernelSize(), c.getStride(), c.getPadding()));
            } else if (l.getClass() == SubsamplingLayer.class && ((SubsamplingLayer) l).getPoolingType() == PoolingType.MAX
                    && ((SubsamplingLayer) l).getConvolutionMode() == ConvolutionMode.Truncate) {
                SubsamplingLayer s = (SubsamplingLayer) l;
                steps.add(new Step(next, "pool", s.getKernelSize(), s.getStride(), s.getPadding()));
            } else if (l instanceof LocalResponseNormalization) {
                steps.add(new Step(next, "lrn", null, null, null));
            } else {
                break;
            }
            at = next;
        }
        while (!steps.isEmpty() && "lrn".equals(steps.get(steps.size() - 1).kind())) {
            steps.remove(steps.size() - 1);
        }
        return steps.stream().anyMatch(Step::conv) ? steps : new ArrayList<>();
    }

    /** The convolution vertices of the chain, first to last (conv1..convN). */
    public static List<String> convLayers(List<Step> chain) {
        return chain.stream().filter(Step::conv).map(Step::vertex).toList();
    }

    /** The vertex a vertex feeds when it feeds exactly one, else null. */
    private static String onlyConsumer(ComputationGraphConfiguration conf, String vertex) {
        String found = null;
        for (Map.Entry<String, List<String>> e : conf.getVertexInputs().entrySet()) {
            if (e.getValue().contains(vertex)) {
                if (found != null || e.getValue().size() != 1) {
                    return null;
                }
                found = e.getKey();
            }
        }
        return found;
    }

    /**
     * The projection to pixels [1, C, H, W] of the strongest activation of convolution {@code layer}, given the
     * forward pass's activations {@code acts} (vertex name -> output) of the image {@code x}.
     */
    public static INDArray reconstruct(ComputationGraph net, List<Step> chain, INDArray x, Map<String, INDArray> acts, String layer) {
        int top = -1;
        for (int i = 0; i < chain.size(); i++) {
            if (chain.get(i).vertex().equals(layer)) {
                top = i;
            }
        }
        if (top < 0 || !chain.get(top).conv()) {
            throw new IllegalArgumentException(layer + " is not a convolution of the chain " + chain);
        }
        INDArray a = acts.get(layer);
        long best = a.argMax().getLong(0); // over all channels and positions of the one image
        INDArray signal = Nd4j.zeros(a.dataType(), a.shape());
        signal.putScalar(best, a.getDouble(best));
        for (int i = top; i >= 0; i--) {
            Step s = chain.get(i);
            INDArray below = i == 0 ? x : acts.get(chain.get(i - 1).vertex());
            if (s.conv()) {
                INDArray w = net.getLayer(s.vertex()).getParam("W");
                signal = transposedConv(Transforms.relu(signal, true), w, s.stride(), s.padding(), (int) below.size(2), (int) below.size(3));
            } else if ("pool".equals(s.kind())) {
                signal = unpool(signal, below, s.kernel(), s.stride(), s.padding());
            }
        }
        return signal;
    }

    /**
     * The transposed convolution of signal [1, oC, h, w] with filters W [oC, iC, kH, kW] to the layer's input size
     * [1, iC, H, W]: each position spreads its value over its receptive field, weighted by the filter (col2im of W^T s).
     */
    public static INDArray transposedConv(INDArray signal, INDArray w, int[] stride, int[] padding, int height, int width) {
        long oC = w.size(0), iC = w.size(1), kH = w.size(2), kW = w.size(3), h = signal.size(2), wd = signal.size(3);
        INDArray cols = w.dup('c').reshape('c', oC, iC * kH * kW).transpose().mmul(signal.dup('c').reshape('c', oC, h * wd));
        INDArray col6 = cols.reshape('c', 1, iC, kH, kW, h, wd);
        return Convolution.col2im(col6, stride[0], stride[1], padding[0], padding[1], height, width);
    }

    /** Max unpooling: each pooled value goes back to the position that won the max in the forward pass (the switch). */
    public static INDArray unpool(INDArray signal, INDArray poolInput, int[] kernel, int[] stride, int[] padding) {
        long channels = poolInput.size(1);
        int height = (int) poolInput.size(2), width = (int) poolInput.size(3);
        int oh = (int) signal.size(2), ow = (int) signal.size(3);
        float[] in = poolInput.dup('c').data().asFloat();
        float[] s = signal.dup('c').data().asFloat();
        float[] out = new float[in.length];
        for (int c = 0; c < channels; c++) {
            int base = c * height * width;
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    float v = s[(c * oh + i) * ow + j];
                    if (v == 0) {
                        continue;
                    }
                    int arg = -1;
                    for (int y = Math.max(0, i * stride[0] - padding[0]); y < Math.min(height, i * stride[0] - padding[0] + kernel[0]); y++) {
                        for (int x = Math.max(0, j * stride[1] - padding[1]); x < Math.min(width, j * stride[1] - padding[1] + kernel[1]); x++) {
                            if (arg < 0 || in[base + y * width + x] > in[arg]) {
                                arg = base + y * width + x;
                            }
                        }
                    }
                    out[arg] += v;
                }
            }
        }
        return Nd4j.create(out, new long[]{1, channels, height, width}, 'c').castTo(signal.dataType());
    }
}
