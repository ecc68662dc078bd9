package org.sparkzoo.jobs.eval;

import org.sparkzoo.dataprep.transform.CenterCrop;
import org.sparkzoo.dataprep.transform.Compose;
import org.sparkzoo.dataprep.transform.CornerCrop;
import org.sparkzoo.dataprep.transform.HorizontalFlip;
import org.sparkzoo.dataprep.transform.Resize;
import org.sparkzoo.dataprep.transform.Transform;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One test-time view of an image: the short side resized to {@code scale} x the model's input, one crop of the
 * input size (center or a corner), optionally mirrored. A member's softmax is averaged over the views of
 * {@code --views}, so each image still counts once.
 */
final class View implements Serializable {
    private static final long serialVersionUID = 1L;
    /** The values of {@code --views}. */
    static final List<String> NAMES = EvalOptions.VIEWS;
    /** Short side / input size of the multi-scale views (1.14 ~ torchvision's 256/224). */
    static final double[] MULTI_SCALES = {1.0, 1.14, 1.3};

    /** The crop window: the center, or one corner of torchvision's FiveCrop. */
    enum Crop { CENTER, TOP_LEFT, TOP_RIGHT, BOTTOM_LEFT, BOTTOM_RIGHT }

    final double scale;
    final Crop crop;
    final boolean flip;

    View(double scale, Crop crop, boolean flip) {
        this.scale = scale;
        this.crop = crop;
        this.flip = flip;
    }

    /** Resize(round(scale x size)), the crop, then the mirror if asked. */
    Transform transform(int size) {
        List<Transform> steps = new ArrayList<>();
        steps.add(new Resize((int) Math.round(size * scale)));
        steps.add(crop == Crop.CENTER ? new CenterCrop(size) : new CornerCrop(size, CornerCrop.Corner.valueOf(crop.name())));
        if (flip) {
            steps.add(new HorizontalFlip());
        }
        return new Compose(steps);
    }

    /**
     * The views of {@code --views}: center (1), ten-crop (torchvision's TenCrop after Resize: 4 corners + center,
     * each also mirrored; 10), multi-scale (center crops after resizing to {@link #MULTI_SCALES} x input; 3).
     * {@code resizeRatio} is the scale of center and ten-crop.
     */
    static List<View> parse(String spec, double resizeRatio) {
        if (!(resizeRatio >= 1.0)) {
            throw new IllegalArgumentException("--resize-ratio must be >= 1 (the resized image must hold the crop), got " + resizeRatio);
        }
        List<View> views = new ArrayList<>();
        switch (spec.toLowerCase(Locale.ROOT).trim()) {
            case "center":
                views.add(new View(resizeRatio, Crop.CENTER, false));
                break;
            case "ten-crop":
                for (boolean flip : new boolean[]{false, true}) {
                    for (Crop c : new Crop[]{Crop.TOP_LEFT, Crop.TOP_RIGHT, Crop.BOTTOM_LEFT, Crop.BOTTOM_RIGHT, Crop.CENTER}) {
                        views.add(new View(resizeRatio, c, flip));
                    }
                }
                break;
            case "multi-scale":
                for (double s : MULTI_SCALES) {
                    views.add(new View(s, Crop.CENTER, false));
                }
                break;
            default:
                throw new IllegalArgumentException("unknown --views '" + spec + "'; use one of " + String.join(", ", NAMES));
        }
        return views;
    }

    /** How the report describes a --views setting. */
    static String describe(String spec, double resizeRatio) {
        switch (spec.toLowerCase(Locale.ROOT).trim()) {
            case "ten-crop":
                return String.format(Locale.ROOT, "ten-crop (short side resized to %.3g x input; 4 corners + center, each also mirrored; 10 views averaged)", resizeRatio);
            case "multi-scale":
                return "multi-scale (center crops after resizing the short side to " + java.util.Arrays.toString(MULTI_SCALES)
                        + " x input; " + MULTI_SCALES.length + " views averaged)";
            default:
                return String.format(Locale.ROOT, "center (short side resized to %.3g x input, center crop; 1 view)", resizeRatio);
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s@%.3g%s", crop.name().toLowerCase(Locale.ROOT), scale, flip ? "+flip" : "");
    }
}
