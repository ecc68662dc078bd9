package org.sparkzoo.dataprep.image;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.opencv_core.Mat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC1;
import static org.bytedeco.opencv.global.opencv_imgcodecs.*;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_BGR2RGB;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_RGB2BGR;
import static org.bytedeco.opencv.global.opencv_imgproc.cvtColor;

/**
 * Decodes and encodes images with OpenCV (libjpeg-turbo, libpng). JPEGs are decoded at 1/2, 1/4 or 1/8
 * size through libjpeg's DCT scaling when the caller needs fewer pixels, which is both the fast path and
 * what keeps a 100-megapixel photo from exhausting memory. CMYK and YCCK JPEGs, grey JPEGs, progressive
 * JPEGs and PNGs (whatever their file name says) all come out as {@code channels}-channel 8-bit images.
 */
public final class ImageCodec {
    /**
     * Largest image decoded at full size (pixels). Larger JPEGs are decoded at reduced size to fit,
     * larger PNGs are refused. 178 MP is Pillow's decompression-bomb limit.
     */
    public static final long MAX_PIXELS = 178_956_970L;

    private static final int[] REDUCTIONS = {8, 4, 2};

    private ImageCodec() {
    }

    /**
     * @param encoded      the file's bytes (JPEG, PNG, or anything else OpenCV reads: BMP, TIFF, WebP)
     * @param channels     3 for RGB (grey and CMYK are converted), 1 for grey
     * @param minShortSide 0 decodes at full size; otherwise the JPEG is decoded at the smallest DCT-scaled
     *                     size (1/8, 1/4, 1/2) whose short side stays >= this
     * @throws BadImageException with the reason when the bytes are not a usable image
     */
    public static Image decode(byte[] encoded, int channels, int minShortSide) throws BadImageException {
        if (channels != 1 && channels != 3) throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        if (encoded == null || encoded.length == 0) throw new BadImageException("empty file (0 bytes)");
        ImageInfo info = ImageInfo.probe(encoded, encoded.length);
        if (info == null) {
            throw new BadImageException("truncated or corrupt JPEG: no frame header in its " + encoded.length + " bytes");
        }
        int reduction = 1;
        if (info.format == ImageInfo.Format.JPEG) {
            if (info.width <= 0 || info.height <= 0) throw new BadImageException("JPEG header says " + info.width + "x" + info.height);
            reduction = reductionFor(info.width, info.height, minShortSide);
        } else if (info.format == ImageInfo.Format.PNG && (long) info.width * info.height > MAX_PIXELS) {
            throw new BadImageException("PNG of " + info.width + "x" + info.height + " exceeds " + MAX_PIXELS + " pixels");
        }
        int flags = IMREAD_IGNORE_ORIENTATION | flagsFor(channels, reduction);
        try (PointerScope scope = new PointerScope()) {
            Mat buf = new Mat(1, encoded.length, CV_8UC1);
            buf.data().put(encoded, 0, encoded.length);
            Mat decoded = imdecode(buf, flags);
            if (decoded == null || decoded.empty()) {
                throw new BadImageException(info.format == ImageInfo.Format.OTHER
                        ? "not an image: " + describeStart(encoded)
                        : "the " + info.format + " decoder rejected it (" + info + ", " + encoded.length + " bytes)");
            }
            if (info.format == ImageInfo.Format.JPEG && !hasEoi(encoded)) {
                double missing = missingBottomFraction(decoded);
                if (missing > 0.05) {
                    throw new BadImageException(String.format("truncated JPEG: no end marker, bottom %.0f%% of the picture is missing", 100 * missing));
                }
            }
            if (channels == 3) cvtColor(decoded, decoded, COLOR_BGR2RGB);
            return Mats.toImage(decoded);
        }
    }

    /** The DCT reduction (1, 2, 4 or 8) that keeps the short side >= minShortSide and the pixel count in bounds. */
    static int reductionFor(int width, int height, int minShortSide) {
        int wanted = 1;
        if (minShortSide > 0) {
            for (int r : REDUCTIONS) {
                if (ceilDiv(Math.min(width, height), r) >= minShortSide) {
                    wanted = r;
                    break;
                }
            }
        }
        int needed = 8;                      // the pixel bound: a huge photo never decodes at full size
        for (int r = 1; r <= 8; r *= 2) {
            if ((long) ceilDiv(width, r) * ceilDiv(height, r) <= MAX_PIXELS) {
                needed = r;
                break;
            }
        }
        return Math.max(wanted, needed);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static int flagsFor(int channels, int reduction) {
        boolean grey = channels == 1;
        return switch (reduction) {
            case 2 -> grey ? IMREAD_REDUCED_GRAYSCALE_2 : IMREAD_REDUCED_COLOR_2;
            case 4 -> grey ? IMREAD_REDUCED_GRAYSCALE_4 : IMREAD_REDUCED_COLOR_4;
            case 8 -> grey ? IMREAD_REDUCED_GRAYSCALE_8 : IMREAD_REDUCED_COLOR_8;
            default -> grey ? IMREAD_GRAYSCALE : IMREAD_COLOR;
        };
    }

    /** A JPEG ends with FF D9, possibly followed by a little padding; a cut-off file has none. */
    private static boolean hasEoi(byte[] b) {
        int stop = Math.max(1, b.length - 4096);
        for (int i = b.length - 1; i >= stop; i--) {
            if ((b[i] & 0xff) == 0xD9 && (b[i - 1] & 0xff) == 0xFF) return true;
        }
        return false;
    }

    /**
     * What a truncated file lacks, the decoder fills by repeating its last row or with one flat colour
     * (libjpeg versions differ): the fraction of rows, counted from the bottom, identical to the row above.
     * Both fills give identical rows; in a real photo two identical full rows at the very bottom are rare.
     */
    private static double missingBottomFraction(Mat m) {
        int rows = m.rows(), rowBytes = m.cols() * m.channels();
        if (rows < 2) return 0;
        byte[] below = new byte[rowBytes], above = new byte[rowBytes];
        BytePointer data = m.data();
        data.position(m.step() * (rows - 1)).get(below, 0, rowBytes);
        int repeated = 0;
        for (int r = rows - 2; r >= 0; r--) {
            data.position(m.step() * r).get(above, 0, rowBytes);
            if (!Arrays.equals(above, below)) break;
            repeated++;
        }
        data.position(0);
        return repeated / (double) rows;
    }

    private static String describeStart(byte[] b) {
        int n = Math.min(b.length, 16);
        boolean text = true;
        for (int i = 0; i < n; i++) {
            int c = b[i] & 0xff;
            if (c < 9 || (c > 13 && c < 32) || c == 127) text = false;
        }
        if (text) {
            String s = new String(b, 0, n, StandardCharsets.UTF_8).replaceAll("\\s+", " ").trim();
            return "looks like text (\"" + s + (b.length > n ? "..." : "") + "\")";
        }
        StringBuilder sb = new StringBuilder("unknown format, starts with");
        for (int i = 0; i < Math.min(n, 8); i++) sb.append(String.format(" %02X", b[i] & 0xff));
        return sb.toString();
    }

    /** Encodes an RGB or grey image as a baseline JPEG (4:2:0 for colour, libjpeg's default). */
    public static byte[] encodeJpeg(Image img, int quality) {
        if (quality < 1 || quality > 100) throw new IllegalArgumentException("JPEG quality must be 1..100, got " + quality);
        try (PointerScope scope = new PointerScope()) {
            Mat m = Mats.toMat(img);
            if (img.channels == 3) cvtColor(m, m, COLOR_RGB2BGR);
            BytePointer out = new BytePointer();
            if (!imencode(".jpg", m, out, new IntPointer(IMWRITE_JPEG_QUALITY, quality))) {
                throw new IllegalStateException("OpenCV could not encode " + img + " as JPEG");
            }
            byte[] bytes = new byte[(int) out.limit()];
            out.get(bytes);
            return bytes;
        }
    }

    /** Encodes as PNG (lossless); used for fixtures and tools. */
    public static byte[] encodePng(Image img) {
        try (PointerScope scope = new PointerScope()) {
            Mat m = Mats.toMat(img);
            if (img.channels == 3) cvtColor(m, m, COLOR_RGB2BGR);
            BytePointer out = new BytePointer();
            if (!imencode(".png", m, out)) throw new IllegalStateException("OpenCV could not encode " + img + " as PNG");
            byte[] bytes = new byte[(int) out.limit()];
            out.get(bytes);
            return bytes;
        }
    }
}
