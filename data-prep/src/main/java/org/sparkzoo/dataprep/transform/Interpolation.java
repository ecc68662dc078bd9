package org.sparkzoo.dataprep.transform;

import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Size;

import static org.bytedeco.opencv.global.opencv_imgproc.INTER_AREA;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_LINEAR;
import static org.bytedeco.opencv.global.opencv_imgproc.resize;

/** The one resize every transform uses: area averaging when shrinking (anti-aliased, like PIL), bilinear when enlarging. */
final class Interpolation {
    private Interpolation() {
    }

    static void resizeTo(Mat src, Mat dst, int width, int height) {
        boolean shrinking = width <= src.cols() && height <= src.rows();
        try (Size size = new Size(width, height)) {
            resize(src, dst, size, 0, 0, shrinking ? INTER_AREA : INTER_LINEAR);
        }
    }
}
