package org.sparkzoo.dataprep.image;

import org.junit.jupiter.api.Test;
import org.sparkzoo.dataprep.Fixtures;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Size;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.bytedeco.opencv.global.opencv_imgproc.INTER_AREA;
import static org.bytedeco.opencv.global.opencv_imgproc.resize;
import static org.junit.jupiter.api.Assertions.*;

/** Decoding real photos and their real-world defects (fixtures: src/test/resources/photos/README.md). */
class ImageCodecTest {

    static Image decode(String photo, int channels) throws BadImageException {
        return ImageCodec.decode(Fixtures.photo(photo), channels, 0);
    }

    /** Mean absolute difference per byte between two same-sized images. */
    static double meanAbsDiff(Image a, Image b) {
        assertEquals(a.width, b.width);
        assertEquals(a.height, b.height);
        assertEquals(a.channels, b.channels);
        long d = 0;
        for (int i = 0; i < a.data.length; i++) d += Math.abs((a.data[i] & 0xff) - (b.data[i] & 0xff));
        return d / (double) a.data.length;
    }

    /** The photo resized to exactly w x h (area averaging), to compare with a variant made at that size. */
    static Image resized(String photo, int w, int h) throws BadImageException {
        Image img = decode(photo, 3);
        try (PointerScope scope = new PointerScope()) {
            Mat dst = new Mat();
            resize(Mats.toMat(img), dst, new Size(w, h), 0, 0, INTER_AREA);
            return Mats.toImage(dst);
        }
    }

    @Test
    void baselineJpegDecodesToRgbInTheRightOrder() throws Exception {
        Image img = decode("chelsea.jpg", 3);
        assertEquals(451, img.width);
        assertEquals(300, img.height);
        assertEquals(3, img.channels);
        // Chelsea is a ginger cat: red dominates blue on average (a BGR mix-up would flip this)
        double r = 0, b = 0;
        for (int i = 0; i < img.data.length; i += 3) {
            r += img.data[i] & 0xff;
            b += img.data[i + 2] & 0xff;
        }
        assertTrue(r > b * 1.3, "red " + r + " vs blue " + b);
    }

    @Test
    void adobeCmykJpegComesOutAsTheSamePictureInRgb() throws Exception {
        ImageInfo info = ImageInfo.probe(Fixtures.photo("cmyk.jpg"), Fixtures.photo("cmyk.jpg").length);
        assertEquals(4, info.components);
        Image cmyk = decode("cmyk.jpg", 3);
        Image reference = resized("chelsea.jpg", 300, 200);
        assertEquals(3, cmyk.channels);
        assertTrue(meanAbsDiff(cmyk, reference) < 12, "CMYK decode differs from the RGB original by " + meanAbsDiff(cmyk, reference));
    }

    @Test
    void ycckJpegComesOutAsTheSamePictureInRgb() throws Exception {
        byte[] bytes = Fixtures.photo("ycck.jpg");
        assertEquals(4, ImageInfo.probe(bytes, bytes.length).components);
        Image ycck = decode("ycck.jpg", 3);
        Image reference = resized("coffee.jpg", 300, 200);
        assertTrue(meanAbsDiff(ycck, reference) < 12, "YCCK decode differs from the RGB original by " + meanAbsDiff(ycck, reference));
    }

    @Test
    void greyJpegBecomesRgbWithEqualChannelsOrStaysGrey() throws Exception {
        byte[] bytes = Fixtures.photo("grey.jpg");
        assertTrue(ImageInfo.probe(bytes, bytes.length).isGrey());
        Image rgb = decode("grey.jpg", 3);
        assertEquals(3, rgb.channels);
        for (int i = 0; i < rgb.data.length; i += 3) {
            assertEquals(rgb.data[i], rgb.data[i + 1]);
            assertEquals(rgb.data[i], rgb.data[i + 2]);
        }
        Image grey = decode("grey.jpg", 1);
        assertEquals(1, grey.channels);
        assertEquals(rgb.width * rgb.height, grey.data.length);
    }

    @Test
    void progressiveJpegDecodes() throws Exception {
        byte[] bytes = Fixtures.photo("progressive.jpg");
        assertTrue(ImageInfo.probe(bytes, bytes.length).progressive);
        Image img = decode("progressive.jpg", 3);
        assertEquals(320, img.width);
        assertTrue(meanAbsDiff(img, resized("astronaut.jpg", 320, 320)) < 10);
    }

    @Test
    void pngNamedJpegIsRecognisedByContent() throws Exception {
        byte[] bytes = Fixtures.photo("png_named_as.JPEG");
        assertEquals(ImageInfo.Format.PNG, ImageInfo.probe(bytes, bytes.length).format);
        Image img = decode("png_named_as.JPEG", 3);
        assertEquals(200, img.width);
        assertEquals(133, img.height);
        assertTrue(meanAbsDiff(img, resized("chelsea.jpg", 200, 133)) < 12);
    }

    @Test
    void hugeJpegIsDecodedAtReducedSize() throws Exception {
        byte[] huge = HugePhoto.jpeg();                         // 12000 x 8000 from a real photo
        ImageInfo info = ImageInfo.probe(huge, huge.length);
        assertEquals(12000, info.width);
        long t0 = System.nanoTime();
        Image img = ImageCodec.decode(huge, 3, 256);
        assertEquals(1500, img.width, "1/8 DCT scaling keeps the short side >= 256");
        assertEquals(1000, img.height);
        assertTrue((System.nanoTime() - t0) / 1e9 < 5, "reduced decode should be fast");
        assertEquals(2, ImageCodec.reductionFor(12000, 8000, 4000));
        assertEquals(1, ImageCodec.reductionFor(500, 375, 256));
        assertEquals(2, ImageCodec.reductionFor(20000, 15000, 0), "full size over the pixel bound is reduced");
    }

    @Test
    void imageSmallerThanTheTargetDecodesAtFullSize() throws Exception {
        Image img = ImageCodec.decode(Fixtures.photo("small.jpg"), 3, 256);
        assertEquals(60, img.width);
        assertEquals(40, img.height);
    }

    @Test
    void unusableFilesAreRejectedWithAReason() {
        assertTrue(reason(new byte[0]).contains("empty"));
        assertTrue(reason("This is a README, not a photo.\n".getBytes(StandardCharsets.UTF_8)).contains("not an image"));
        assertTrue(reason(Fixtures.photo("truncated.jpg")).toLowerCase().contains("jpeg"), reason(Fixtures.photo("truncated.jpg")));
        byte[] chelsea = Fixtures.photo("chelsea.jpg");
        assertTrue(reason(Arrays.copyOf(chelsea, 300)).contains("rejected"));
        assertTrue(reason(Arrays.copyOf(chelsea, chelsea.length * 4 / 10)).contains("truncated"), "a JPEG cut at 40% is quarantined");
    }

    @Test
    void slightlyTruncatedJpegIsKept() throws Exception {
        byte[] chelsea = Fixtures.photo("chelsea.jpg");
        Image img = ImageCodec.decode(Arrays.copyOf(chelsea, chelsea.length - 300), 3, 0);
        assertEquals(451, img.width);
    }

    @Test
    void jpegEncodeDecodeRoundTrip() throws Exception {
        Image img = decode("coffee.jpg", 3);
        Image back = ImageCodec.decode(ImageCodec.encodeJpeg(img, 95), 3, 0);
        assertTrue(meanAbsDiff(img, back) < 3);
        Image grey = decode("grey.jpg", 1);
        assertEquals(1, ImageCodec.decode(ImageCodec.encodeJpeg(grey, 90), 1, 0).channels);
    }

    private static String reason(byte[] bytes) {
        BadImageException e = assertThrows(BadImageException.class, () -> ImageCodec.decode(bytes, 3, 0));
        return e.getMessage();
    }
}
