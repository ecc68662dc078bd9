package org.sparkzoo.models;

import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;

import java.io.Serializable;

/**
 * What a zoo builder needs besides the architecture: input shape, classes, seed and the training
 * hyperparameters that DL4J keeps inside the network configuration (updater with its schedule, weight decay,
 * regularizing drop rates). Immutable; the {@code with*} methods return copies.
 */
public final class ModelConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    public final int numClasses;
    public final int channels;
    public final int height;
    public final int width;
    public final long seed;
    public final IUpdater updater;
    /** Decoupled weight decay coefficient, applied to weights (not biases, not batch-norm). */
    public final double weightDecay;
    /** Stochastic depth: drop probability of the last residual block (linear decay from 0), 0 = off. */
    public final double stochasticDepth;
    /** FractalNet/NASNet drop-path probability, 0 = off. */
    public final double dropPath;
    /** Dropout before the classifier where the architecture has one (probability of dropping), negative = paper default. */
    public final double dropout;
    /** MobileNet width multiplier (alpha). */
    public final double widthMultiplier;

    private ModelConfig(int numClasses, int channels, int height, int width, long seed, IUpdater updater,
                        double weightDecay, double stochasticDepth, double dropPath, double dropout, double widthMultiplier) {
        this.numClasses = numClasses;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.seed = seed;
        this.updater = updater;
        this.weightDecay = weightDecay;
        this.stochasticDepth = stochasticDepth;
        this.dropPath = dropPath;
        this.dropout = dropout;
        this.widthMultiplier = widthMultiplier;
    }

    /** ImageNet defaults: 1000 classes, 3x224x224, SGD with Nesterov momentum. */
    public static ModelConfig imageNet() {
        return new ModelConfig(1000, 3, 224, 224, 42L, new Nesterovs(0.1, 0.9), 0, 0, 0, -1, 1.0);
    }

    public static ModelConfig of(int numClasses, int channels, int height, int width) {
        return imageNet().withClasses(numClasses).withInput(channels, height, width);
    }

    public ModelConfig withClasses(int n) {
        return new ModelConfig(n, channels, height, width, seed, updater, weightDecay, stochasticDepth, dropPath, dropout, widthMultiplier);
    }

    public ModelConfig withInput(int c, int h, int w) {
        return new ModelConfig(numClasses, c, h, w, seed, updater, weightDecay, stochasticDepth, dropPath, dropout, widthMultiplier);
    }

    public ModelConfig withSeed(long s) {
        return new ModelConfig(numClasses, channels, height, width, s, updater, weightDecay, stochasticDepth, dropPath, dropout, widthMultiplier);
    }

    public ModelConfig withUpdater(IUpdater u) {
        return new ModelConfig(numClasses, channels, height, width, seed, u, weightDecay, stochasticDepth, dropPath, dropout, widthMultiplier);
    }

    public ModelConfig withWeightDecay(double wd) {
        return new ModelConfig(numClasses, channels, height, width, seed, updater, wd, stochasticDepth, dropPath, dropout, widthMultiplier);
    }

    public ModelConfig withStochasticDepth(double p) {
        return new ModelConfig(numClasses, channels, height, width, seed, updater, weightDecay, p, dropPath, dropout, widthMultiplier);
    }

    public ModelConfig withDropPath(double p) {
        return new ModelConfig(numClasses, channels, height, width, seed, updater, weightDecay, stochasticDepth, p, dropout, widthMultiplier);
    }

    public ModelConfig withDropout(double p) {
        return new ModelConfig(numClasses, channels, height, width, seed, updater, weightDecay, stochasticDepth, dropPath, p, widthMultiplier);
    }

    public ModelConfig withWidthMultiplier(double a) {
        return new ModelConfig(numClasses, channels, height, width, seed, updater, weightDecay, stochasticDepth, dropPath, dropout, a);
    }

    @Override
    public String toString() {
        return numClasses + " classes, input " + channels + "x" + height + "x" + width + ", seed " + seed;
    }
}
