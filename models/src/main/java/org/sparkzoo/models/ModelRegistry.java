package org.sparkzoo.models;

import org.sparkzoo.models.zoo.AlexNet;
import org.sparkzoo.models.zoo.DenseNet;
import org.sparkzoo.models.zoo.FractalNet;
import org.sparkzoo.models.zoo.GoogLeNet;
import org.sparkzoo.models.zoo.InceptionResNetV2;
import org.sparkzoo.models.zoo.InceptionV3;
import org.sparkzoo.models.zoo.LeNet;
import org.sparkzoo.models.zoo.MobileNet;
import org.sparkzoo.models.zoo.NASNet;
import org.sparkzoo.models.zoo.NiN;
import org.sparkzoo.models.zoo.ResNet;
import org.sparkzoo.models.zoo.SqueezeNet;
import org.sparkzoo.models.zoo.VGG;
import org.sparkzoo.models.zoo.Xception;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/** The one place that maps model names ({@code densenet121}, {@code resnet50}, ...) to their specs. */
public final class ModelRegistry {
    private static final Map<String, ModelSpec> MODELS = new LinkedHashMap<>();

    static {
        // in order of the lineage
        Stream.of(LeNet.specs(), AlexNet.specs(), VGG.specs(), NiN.specs(), GoogLeNet.specs(), InceptionV3.specs(),
                        ResNet.specs(), InceptionResNetV2.specs(), FractalNet.specs(), DenseNet.specs(), MobileNet.specs(),
                        SqueezeNet.specs(), NASNet.specs(), Xception.specs())
                .flatMap(List::stream)
                .forEach(ModelRegistry::register);
    }

    private ModelRegistry() {
    }

    private static void register(ModelSpec spec) {
        if (MODELS.putIfAbsent(spec.name, spec) != null) {
            throw new IllegalStateException("model registered twice: " + spec.name);
        }
    }

    public static List<ModelSpec> all() {
        return Collections.unmodifiableList(new ArrayList<>(MODELS.values()));
    }

    public static boolean contains(String name) {
        return MODELS.containsKey(name.toLowerCase(Locale.ROOT));
    }

    /** The spec of that name, or an error that names the closest known model and how to list them all. */
    public static ModelSpec get(String name) {
        ModelSpec spec = MODELS.get(name.toLowerCase(Locale.ROOT));
        if (spec == null) {
            throw new IllegalArgumentException("unknown model '" + name + "'" + suggestion(name) + " (--list-models shows all)");
        }
        return spec;
    }

    private static String suggestion(String name) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String known : MODELS.keySet()) {
            int d = editDistance(name.toLowerCase(Locale.ROOT), known);
            if (d < bestDistance) {
                bestDistance = d;
                best = known;
            }
        }
        return best != null && bestDistance <= Math.max(2, name.length() / 3) ? "; did you mean " + best + "?" : "";
    }

    static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
