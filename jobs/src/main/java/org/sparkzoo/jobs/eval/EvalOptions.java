package org.sparkzoo.jobs.eval;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/** What eval-job can be told; every field has a default that works. */
public final class EvalOptions implements Serializable {
    private static final long serialVersionUID = 1L;
    /** The values of {@code --views}. */
    public static final List<String> VIEWS = List.of("center", "ten-crop", "multi-scale");

    /** Comma-separated checkpoints (model.zip or checkpoints/ckpt-*.zip), one or more models: more makes an ensemble. */
    public List<String> checkpoints = new ArrayList<>();
    /** Dataset folder written by prep-job. */
    public String data;
    public String split = "val";
    /** Report folder. */
    public String output;
    /**
     * Test-time views, softmax averaged per image: center (resize + center crop), ten-crop (4 corners + center of
     * the resized image, each also mirrored), multi-scale (center crops after resizing to 1.0, 1.14, 1.3 x input).
     */
    public String views = "center";
    /** Ensemble rule: mean (average softmax), weighted (weights below), vote (majority of top-1, ties by mean softmax). */
    public String ensemble = "mean";
    /** Weights of the members for the weighted rule, in checkpoint order (NaN where a value is not a number). */
    public List<Double> weights = new ArrayList<>();
    /** Validation images to explain (class maps, deconvnet, confused-pair examples); 0 = none. */
    public int explain = 0;
    /** Images per task. */
    public int sliceRows = 256;
    /** Resize the short side to this x crop before the center crop (torchvision: 256/224). */
    public double resizeRatio = 256.0 / 224.0;

    /** {@code --weights w,w,...}: each value parsed, NaN for one that is not a number (refused by {@link #weightsProblem}). */
    public static List<Double> parseWeights(String text) {
        List<Double> out = new ArrayList<>();
        for (String w : text.split(",")) {
            try {
                out.add(Double.parseDouble(w.trim()));
            } catch (NumberFormatException e) {
                out.add(Double.NaN);
            }
        }
        return out;
    }

    /**
     * Why the ensemble weights cannot be used with {@code checkpoints} members, or null: weights only go with the
     * weighted rule, which needs one finite, non-negative weight per checkpoint with a positive sum.
     */
    public String weightsProblem(int checkpoints) {
        if (!"weighted".equals(ensemble)) {
            return weights.isEmpty() ? null : "--weights is only used by --ensemble weighted (got --ensemble " + ensemble + ")";
        }
        if (weights.size() != checkpoints) {
            return "--ensemble weighted needs one --weights value per checkpoint (" + checkpoints + "), got " + weights.size();
        }
        double sum = 0;
        for (double w : weights) {
            if (!Double.isFinite(w) || w < 0) {
                return "--weights must be numbers >= 0, one per checkpoint, got " + weightsText() + ": pass e.g. --weights 1,2";
            }
            sum += w;
        }
        return sum > 0 ? null : "--weights must not all be 0 (got " + weightsText() + "): give at least one member a positive weight";
    }

    private String weightsText() {
        StringBuilder sb = new StringBuilder();
        for (double w : weights) {
            sb.append(sb.length() == 0 ? "" : ",").append(Double.isNaN(w) ? "(not a number)" : String.valueOf(w));
        }
        return sb.toString();
    }

    /**
     * The fast setting train-job uses for its per-epoch validation: center view, resized as in training
     * (torchvision's 256/224 after random-resized-crop training, no zoom after training on whole images).
     */
    public static EvalOptions forValidation(String trainAugment) {
        EvalOptions o = new EvalOptions();
        o.resizeRatio = "random-resized-crop".equals(trainAugment) ? 256.0 / 224.0 : 1.0;
        return o;
    }
}
