package org.sparkzoo.models;

import java.util.Locale;

/**
 * How a weight decay coefficient c acts. Both are applied to every trainable parameter (weights, biases, batch-norm
 * gamma and beta; not batch-norm running statistics), as torch.optim applies weight_decay by default, and both add
 * the penalty 0.5 c ||w||^2 to DL4J's score ({@link org.sparkzoo.models.training.Losses} takes it out again).
 */
public enum WeightDecayKind {
    /**
     * An L2 term added to the gradient before the updater: g + c w, then momentum / Adam (DL4J's {@code .l2(c)}).
     * What {@code torch.optim.SGD(weight_decay=c)} does; with momentum mu its effect is 1/(1-mu) times that of
     * the decoupled kind at the same c.
     */
    L2,
    /** Decoupled: w -= lr c w after the updater's step (DL4J's {@code .weightDecay(c, true)}; AdamW, SGDW). */
    DECOUPLED;

    /** The command-line word: {@code l2} or {@code decoupled}. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@link #word()}; the error names the choices. */
    public static WeightDecayKind of(String word) {
        for (WeightDecayKind k : values()) {
            if (k.word().equals(word)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown weight decay kind '" + word + "' (l2, decoupled)");
    }
}
