package org.sparkzoo.dataprep.transform;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.opencv_core.Mat;
import org.sparkzoo.dataprep.image.Image;
import org.sparkzoo.dataprep.image.Mats;

import java.util.Random;

import static org.bytedeco.opencv.global.opencv_core.flip;

/** torchvision's {@code hflip}: always mirrors left-right (the mirrored views of {@code TenCrop}); needs no rng. */
public final class HorizontalFlip implements Transform {
    private static final long serialVersionUID = 1L;

    @Override
    public Image apply(Image img, Random rng) {
        try (PointerScope scope = new PointerScope()) {
            Mat m = Mats.toMat(img);
            Mat out = new Mat();
            flip(m, out, 1);
            return Mats.toImage(out);
        }
    }

    @Override
    public String toString() {
        return "HorizontalFlip()";
    }
}
