package org.deeplearning4j.nn.layers.normalization;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;

import java.util.function.Supplier;

/**
 * Sets the helper of DL4J's batch-norm layer, whose field is package-private and chosen by a class name fixed in DL4J
 * 1.0.0-M2.1 ({@code HelperUtils.createHelper}); sparkzoo's {@code ZooGraph} uses it to put its own helper
 * where DL4J put its oneDNN one. Lives in DL4J's package for that reason only (like {@code org.nd4j.nativeblas.Nd4jCpu}).
 */
public final class BatchNormHelpers {
    private BatchNormHelpers() {
    }

    /** Replaces DL4J's oneDNN helper of {@code layer}, if it is a batch-norm layer that has one; true if replaced. */
    public static boolean replaceOneDnnHelper(Layer layer, Supplier<BatchNormalizationHelper> helper) {
        if (layer instanceof BatchNormalization) {
            BatchNormalization bn = (BatchNormalization) layer;
            if (bn.helper instanceof MKLDNNBatchNormHelper) {
                bn.helper = helper.get();
                return true;
            }
        }
        return false;
    }
}
