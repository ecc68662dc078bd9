package org.sparkzoo.dataprep.image;

/**
 * What an image's header says, read without decoding pixels: container format, size, and colour
 * components (JPEG: 1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK; PNG: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA).
 */
public final class ImageInfo {
    public enum Format { JPEG, PNG, OTHER }

    public final Format format;
    public final int width;
    public final int height;
    public final int components;
    public final boolean progressive;

    ImageInfo(Format format, int width, int height, int components, boolean progressive) {
        this.format = format;
        this.width = width;
        this.height = height;
        this.components = components;
        this.progressive = progressive;
    }

    /** True when the header says the pixels carry no colour (grey JPEG, grey PNG). */
    public boolean isGrey() {
        return components == 1 || (format == Format.PNG && components == 2);
    }

    /**
     * Reads the header from the first bytes of a file (64 KiB is plenty for JPEG files whose EXIF is
     * not huge). Returns null when the header cannot be found in {@code head}.
     */
    public static ImageInfo probe(byte[] head, int length) {
        if (length >= 24 && (head[0] & 0xff) == 0x89 && head[1] == 'P' && head[2] == 'N' && head[3] == 'G') {
            int w = be32(head, 16), h = be32(head, 20);
            int colorType = length > 25 ? head[25] & 0xff : 2;
            int comps = switch (colorType) { case 0 -> 1; case 4 -> 2; case 6 -> 4; default -> 3; };
            return new ImageInfo(Format.PNG, w, h, comps, false);
        }
        if (length >= 4 && (head[0] & 0xff) == 0xFF && (head[1] & 0xff) == 0xD8) {
            int i = 2;
            while (i + 4 <= length) {
                if ((head[i] & 0xff) != 0xFF) {
                    i++;                                   // tolerate padding / garbage between segments
                    continue;
                }
                int marker = head[i + 1] & 0xff;
                if (marker == 0xFF || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
                    i += (marker == 0xFF) ? 1 : 2;
                    continue;
                }
                int segLen = ((head[i + 2] & 0xff) << 8) | (head[i + 3] & 0xff);
                boolean sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
                if (sof) {
                    if (i + 10 > length) return null;
                    int h = ((head[i + 5] & 0xff) << 8) | (head[i + 6] & 0xff);
                    int w = ((head[i + 7] & 0xff) << 8) | (head[i + 8] & 0xff);
                    int comps = head[i + 9] & 0xff;
                    boolean progressive = marker == 0xC2 || marker == 0xC6 || marker == 0xCA || marker == 0xCE;
                    return new ImageInfo(Format.JPEG, w, h, comps, progressive);
                }
                if (marker == 0xDA || marker == 0xD9) return null; // scan before any frame header: broken
                i += 2 + segLen;
            }
            return null;
        }
        return new ImageInfo(Format.OTHER, 0, 0, 0, false);
    }

    private static int be32(byte[] b, int o) {
        return ((b[o] & 0xff) << 24) | ((b[o + 1] & 0xff) << 16) | ((b[o + 2] & 0xff) << 8) | (b[o + 3] & 0xff);
    }

    @Override
    public String toString() {
        return format + " " + width + "x" + height + "x" + components + (progressive ? " progressive" : "");
    }
}
