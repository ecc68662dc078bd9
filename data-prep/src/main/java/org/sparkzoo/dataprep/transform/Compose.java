package org.sparkzoo.dataprep.transform;

import org.sparkzoo.dataprep.image.Image;

import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

/** torchvision {@code Compose}: applies its transforms in order, all drawing from the same rng. */
public final class Compose implements Transform {
    private static final long serialVersionUID = 1L;
    private final List<Transform> transforms;

    public Compose(Transform... transforms) {
        this(List.of(transforms));
    }

    public Compose(List<Transform> transforms) {
        this.transforms = List.copyOf(transforms);
    }

    public List<Transform> transforms() {
        return transforms;
    }

    @Override
    public Image apply(Image img, Random rng) {
        Image out = img;
        for (Transform t : transforms) out = t.apply(out, rng);
        return out;
    }

    @Override
    public String toString() {
        return transforms.stream().map(Object::toString).collect(Collectors.joining(", ", "Compose(", ")"));
    }
}
