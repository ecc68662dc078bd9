package org.deeplearning4j.nn.layers.convolution;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;

import java.util.function.Function;

/**
 * Sets the helper of DL4J's convolution layer, whose field is protected and chosen by a class name fixed in DL4J
 * 1.0.0-M2.1 ({@code HelperUtils.createHelper}); sparkzoo's {@code ZooGraph} uses it to wrap DL4J's oneDNN helper of
 * the layers that read the network's input. Lives in DL4J's package for that reason only (as {@code BatchNormHelpers}).
 */
public final class ConvolutionHelpers {
    private ConvolutionHelpers() {
    }

    /**
     * Replaces the oneDNN helper of {@code layer} by {@code wrap} of it, if {@code layer} is a plain 2-D convolution
     * (not one of DL4J's subclasses: depthwise, separable, deconvolution) that has one; true if replaced.
     */
    public static boolean wrapOneDnnHelper(Layer layer, Function<ConvolutionHelper, ConvolutionHelper> wrap) {
        if (layer.getClass() == ConvolutionLayer.class) {
            ConvolutionLayer conv = (ConvolutionLayer) layer;
            if (conv.helper instanceof MKLDNNConvHelper) {
                conv.helper = wrap.apply(conv.helper);
                return true;
            }
        }
        return false;
    }
}
