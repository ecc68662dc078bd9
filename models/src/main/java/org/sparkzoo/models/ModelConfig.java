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
    /** Weight decay coefficient c, 0 = none; how it acts is {@link #weightDecayKind}. */
    public final double weightDecay;
    public final WeightDecayKind weightDecayKind;
    /** Stochastic depth: drop probability of the last residual block (linear decay from 0), 0 = off. */
    public final double stochasticDepth;
    /** FractalNet/NASNet drop-path probability, 0 = off, negative = the paper's (FractalNet 0.15, NASNet-Mobile 0). */
    public final double dropPath;
    /** Dropout before the classifier where the architecture has one (probability of dropping), negative = paper default. */
    public final double dropout;
    /** MobileNet width multiplier (alpha). */
    public final double widthMultiplier;

    private ModelConfig(int numClasses, int channels, int height, int width, long seed, IUpdater updater,
                        double weightDecay, WeightDecayKind weightDecayKind, double stochasticDepth, double dropPath, double dropout, double widthMultiplier) {
        this.numClasses = numClasses;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.seed = seed;
        this.updater = updater;
        this.weightDecay = weightDecay;
        this.weightDecayKind = weightDecayKind;
        this.stochasticDepth = stochasticDepth;
        this.dropPath = dropPath;
        this.dropout = dropout;
        this.widthMultiplier = widthMultiplier;
    }

    /** ImageNet defaults: 1000 classes, 3x224x224, SGD with Nesterov momentum, no weight decay, the papers' drop rates. */
    public static ModelConfig imageNet() {
        return new ModelConfig(1000, 3, 224, 224, 42L, new Nesterovs(0.1, 0.9), 0, WeightDecayKind.L2, 0, -1, -1, 1.0);
    }

    public static ModelConfig of(int numClasses, int channels, int height, int width) {
        return imageNet().withClasses(numClasses).withInput(channels, height, width);
    }

    public ModelConfig withClasses(int n) {
        return new ModelConfig(n, channels, height, width, seed, updater, weightDecay, weightDecayKind, stochasticDepth, dropPath, dropout, widthMultiplier);
    }

    public ModelConfig withInput(int c, int h, int w) {
        return new ModelConfig(numClasses, c, h, w, seed, updater, weightDecay, weightDecayKind, stochasticDepth, dropPath, dropout, widthMultiplier);
    }

    public ModelConfig withSeed(long s) {
        return new ModelConfig(numClasses, channels, height, width, s, updater, weightDecay, weightDecayKind, stochasticDepth, dropPath, dropout, widthMultiplier);
    }

    public ModelConfig withUpdater(IUpdater u) {
        return new ModelConfig(numClasses, channels, height, width, seed, u, weightDecay, weightDecayKind, stochasticDepth, dropPath, dropout, widthMultiplier);
    }

    /** Weight decay c of the given kind (the kind must be named: L2 and decoupled differ ~10x under momentum 0.9). */
    public ModelConfig withWeightDecay(double c, WeightDecayKind kind) {
        if (!(c >= 0) || kind == null) {
            throw new IllegalArgumentException("weight decay must be >= 0 with a kind (L2 or DECOUPLED), got " + c + " " + kind);
        }
        return new ModelConfig(numClasses, channels, height, width, seed, updater, c, kind, stochasticDepth, dropPath, dropout, widthMultiplier);
    }

    public ModelConfig withStochasticDepth(double p) {
        return new ModelConfig(numClasses, channels, height, width, seed, updater, weightDecay, weightDecayKind, p, dropPath, dropout, widthMultiplier);
    }

    /** Drop-path probability; negative = the paper's default of each model. */
    public ModelConfig withDropPath(double p) {
        if (!(p < 1)) {
            throw new IllegalArgumentException("drop-path must be < 1 (negative = the paper's), got " + p);
        }
        return new ModelConfig(numClasses, channels, height, width, seed, updater, weightDecay, weightDecayKind, stochasticDepth, p, dropout, widthMultiplier);
    }

    /** Classifier dropout probability; negative = the paper's rate of each model. */
    public ModelConfig withDropout(double p) {
        if (!(p < 1)) {
            throw new IllegalArgumentException("dropout must be < 1 (negative = the paper's), got " + p);
        }
        return new ModelConfig(numClasses, channels, height, width, seed, updater, weightDecay, weightDecayKind, stochasticDepth, dropPath, p, widthMultiplier);
    }

    /** MobileNet's alpha: every layer's width times a (1.0 = the published networks). */
    public ModelConfig withWidthMultiplier(double a) {
        if (!(a > 0)) {
            throw new IllegalArgumentException("width multiplier must be > 0, got " + a);
        }
        return new ModelConfig(numClasses, channels, height, width, seed, updater, weightDecay, weightDecayKind, stochasticDepth, dropPath, dropout, a);
    }

    /** The drop-path rate to build with: the configured one, or {@code paperRate} when none was asked for. */
    public double dropPathOr(double paperRate) {
        return dropPath >= 0 ? dropPath : paperRate;
    }

    @Override
    public String toString() {
        return numClasses + " classes, input " + channels + "x" + height + "x" + width + ", seed " + seed;
    }
}
