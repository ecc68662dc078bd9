package org.sparkzoo.dataprep.image;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Size;
import org.sparkzoo.dataprep.Fixtures;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC1;
import static org.bytedeco.opencv.global.opencv_imgcodecs.*;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_LINEAR;
import static org.bytedeco.opencv.global.opencv_imgproc.resize;

/** A 12000 x 8000 (96 MP) JPEG made at test time by enlarging a real photo, cached for the JVM. */
public final class HugePhoto {
    private static byte[] cached;

    private HugePhoto() {
    }

    public static synchronized byte[] jpeg() {
        if (cached == null) {
            byte[] src = Fixtures.photo("coffee.jpg");
            try (PointerScope scope = new PointerScope()) {
                Mat buf = new Mat(1, src.length, CV_8UC1);
                buf.data().put(src);
                Mat img = imdecode(buf, IMREAD_COLOR);
                Mat big = new Mat();
                resize(img, big, new Size(12000, 8000), 0, 0, INTER_LINEAR);
                BytePointer out = new BytePointer();
                imencode(".jpg", big, out, new IntPointer(IMWRITE_JPEG_QUALITY, 50));
                cached = new byte[(int) out.limit()];
                out.get(cached);
            }
        }
        return cached;
    }
}
