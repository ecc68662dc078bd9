package org.sparkzoo.jobs.eval;

import org.sparkzoo.dataprep.transform.Presets;
import org.sparkzoo.dataprep.transform.Transform;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** One test-time view of an image: how it is resized and cropped before the network sees it. */
final class View implements Serializable {
    private static final long serialVersionUID = 1L;
    private final String kind;
    private final double resizeRatio;

    private View(String kind, double resizeRatio) {
        this.kind = kind;
        this.resizeRatio = resizeRatio;
    }

    Transform transform(int size) {
        int resize = (int) Math.round(size * resizeRatio);
        if ("center".equals(kind)) {
            return Presets.eval(size, resize);
        }
        throw new IllegalArgumentException("unknown view " + kind);
    }

    static List<View> parse(String spec, double resizeRatio) {
        List<View> views = new ArrayList<>();
        switch (spec.toLowerCase(Locale.ROOT)) {
            case "center":
                views.add(new View("center", resizeRatio));
                break;
            default:
                throw new IllegalArgumentException("unknown --views '" + spec + "' (center, ten-crop, multi-scale)");
        }
        return views;
    }
}
