package org.deeplearning4j.nn.layers.convolution;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;

import java.util.function.Supplier;

/**
 * Sets the helper of DL4J's convolution layer, whose field is protected and chosen by a class name fixed in DL4J
 * 1.0.0-M2.1 ({@code HelperUtils.createHelper}); sparkzoo's {@code ZooGraph} uses it to put its own, extensions of
 * DL4J's oneDNN helper, in every plain convolution ({@code OneDnnConvHelper}, and {@code InputConvHelper} in the
 * layers that read the network's input). Lives in DL4J's package for that reason only (as {@code BatchNormHelpers}).
 */
public final class ConvolutionHelpers {
    private ConvolutionHelpers() {
    }

    /**
     * Replaces DL4J's oneDNN helper of {@code layer}, if {@code layer} is a plain 2-D convolution (DL4J's, or
     * sparkzoo's extension of it, but not one of DL4J's subclasses: depthwise, separable, deconvolution) that has it;
     * true if replaced.
     */
    public static boolean replaceOneDnnHelper(Layer layer, Supplier<? extends MKLDNNConvHelper> helper) {
        if (layer.getClass() == ConvolutionLayer.class
                || layer instanceof ConvolutionLayer && !layer.getClass().getName().startsWith("org.deeplearning4j.")) {
            ConvolutionLayer conv = (ConvolutionLayer) layer;
            if (conv.helper != null && conv.helper.getClass() == MKLDNNConvHelper.class) {
                conv.helper = helper.get();
                return true;
            }
        }
        return false;
    }

    /** Gives {@code to} the helper {@code from} has (a layer that takes another's place keeps its helper). */
    public static void copyHelper(ConvolutionLayer from, ConvolutionLayer to) {
        to.helper = from.helper;
    }
}
