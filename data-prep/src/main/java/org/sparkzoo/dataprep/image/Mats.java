package org.sparkzoo.dataprep.image;

import org.bytedeco.opencv.opencv_core.Mat;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC;

/** Copies between {@link Image} (Java heap) and OpenCV {@link Mat} (native), keeping the channel order as is. */
public final class Mats {
    private Mats() {
    }

    /** A new native Mat holding a copy of the image's pixels; close it (or use a PointerScope). */
    public static Mat toMat(Image img) {
        Mat m = new Mat(img.height, img.width, CV_8UC(img.channels));
        m.data().put(img.data, 0, img.data.length);
        return m;
    }

    /** Copies an 8-bit 1- or 3-channel Mat (ROIs included) into a new Image. */
    public static Image toImage(Mat m) {
        Mat src = m.isContinuous() ? m : m.clone();
        try {
            int c = src.channels();
            byte[] out = new byte[src.rows() * src.cols() * c];
            src.data().get(out, 0, out.length);
            return new Image(out, src.rows(), src.cols(), c);
        } finally {
            if (src != m) src.close();
        }
    }
}
