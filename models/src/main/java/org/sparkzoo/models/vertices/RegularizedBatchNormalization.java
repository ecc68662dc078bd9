package org.sparkzoo.models.vertices;

import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.nd4j.linalg.learning.regularization.Regularization;

import java.util.List;

/**
 * Batch normalization whose gamma and beta take the network's weight decay like every other trainable parameter,
 * as torch.optim does by default (torchvision's recipes decay them unless {@code --norm-weight-decay} is given).
 * DL4J's own layer never regularizes them. gamma takes the layer's weight regularization, beta its bias
 * regularization; the running mean and variance (not trained by gradient descent) take none.
 */
public class RegularizedBatchNormalization extends BatchNormalization {
    private static final long serialVersionUID = 1L;

    /** DL4J's defaults (decay 0.9, eps 1e-5, gamma 1, beta 0), as {@code new BatchNormalization.Builder().build()}. */
    public RegularizedBatchNormalization() {
        super();
    }

    @Override
    public List<Regularization> getRegularizationByParam(String paramName) {
        switch (paramName) {
            case BatchNormalizationParamInitializer.GAMMA:
                return getRegularization();
            case BatchNormalizationParamInitializer.BETA:
                return getRegularizationBias();
            default:
                return null;
        }
    }

    @Override
    public RegularizedBatchNormalization clone() {
        return (RegularizedBatchNormalization) super.clone();
    }
}
