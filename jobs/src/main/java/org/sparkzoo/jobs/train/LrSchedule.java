package org.sparkzoo.jobs.train;

/**
 * Learning rate as a function of training progress in (fractional) epochs: linear warmup, then step, cosine,
 * poly or constant decay; the base rate follows the linear scaling rule (Goyal et al., 2017): lr x global batch
 * / reference batch. Applied by the driver before every averaging round.
 */
public final class LrSchedule {
    private final String kind;
    private final double baseLr;
    private final int epochs;
    private final double warmupEpochs;
    private final int stepEpochs;
    private final double gamma;
    private final double power;

    public LrSchedule(TrainOptions o, int globalBatch) {
        this.kind = o.lrSchedule;
        this.baseLr = o.lr * globalBatch / o.lrReferenceBatch;
        this.epochs = o.epochs;
        this.warmupEpochs = o.warmupEpochs;
        this.stepEpochs = Math.max(1, o.lrStepEpochs);
        this.gamma = o.lrGamma;
        this.power = o.lrPower;
        if (!java.util.List.of("step", "cosine", "poly", "constant").contains(kind)) {
            throw new IllegalArgumentException("unknown --lr-schedule '" + kind + "' (step, cosine, poly, constant)");
        }
    }

    public double baseLr() {
        return baseLr;
    }

    /** The rate at {@code progress} epochs since the start of training (0 <= progress <= epochs). */
    public double at(double progress) {
        if (warmupEpochs > 0 && progress < warmupEpochs) {
            // torchvision's linear warmup starts at 1% of the base rate
            return baseLr * (0.01 + 0.99 * progress / warmupEpochs);
        }
        double span = Math.max(1e-9, epochs - warmupEpochs);
        double t = Math.min(1.0, Math.max(0.0, (progress - warmupEpochs) / span));
        switch (kind) {
            case "step":
                return baseLr * Math.pow(gamma, Math.floor(progress / stepEpochs));
            case "cosine":
                return baseLr * 0.5 * (1 + Math.cos(Math.PI * t));
            case "poly":
                return baseLr * Math.pow(1 - t, power);
            default:
                return baseLr;
        }
    }
}
