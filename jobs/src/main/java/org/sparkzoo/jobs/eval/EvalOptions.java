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
    /** Weights of the members for the weighted rule, in checkpoint order. */
    public List<Double> weights = new ArrayList<>();
    /** Images per task. */
    public int sliceRows = 256;
    /** Resize the short side to this x crop before the center crop (torchvision: 256/224). */
    public double resizeRatio = 256.0 / 224.0;

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
