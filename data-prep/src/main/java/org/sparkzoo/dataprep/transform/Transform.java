package org.sparkzoo.dataprep.transform;

import org.sparkzoo.dataprep.image.Image;

import java.io.Serializable;
import java.util.Random;

/**
 * One step of an image pipeline, named and parameterised as in torchvision.transforms. Implementations
 * are immutable and thread-safe; all randomness comes from {@code rng}, so a seeded Random reproduces a run.
 */
@FunctionalInterface
public interface Transform extends Serializable {
    Image apply(Image img, Random rng);
}
