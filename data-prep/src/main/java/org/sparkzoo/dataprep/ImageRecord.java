package org.sparkzoo.dataprep;

import java.io.Serializable;

/**
 * One row of a shard: an image as stored (JPEG bytes, or raw uint8 HWC RGB/grey), its label index in the
 * manifest's class index, its class id (wnid), the source path it came from and its stored size.
 */
public final class ImageRecord implements Serializable {
    private static final long serialVersionUID = 1L;
    public static final String JPEG = "jpeg";
    public static final String RAW = "raw";

    public final byte[] image;
    public final int label;
    public final String wnid;
    public final String path;
    public final int width;
    public final int height;
    /** {@value #JPEG} or {@value #RAW} (uint8, row-major HWC, RGB for 3 channels). */
    public final String encoding;
    public final int channels;

    public ImageRecord(byte[] image, int label, String wnid, String path, int width, int height, String encoding, int channels) {
        this.image = image;
        this.label = label;
        this.wnid = wnid;
        this.path = path;
        this.width = width;
        this.height = height;
        this.encoding = encoding;
        this.channels = channels;
    }

    public byte[] image() { return image; }
    public int label() { return label; }
    public String wnid() { return wnid; }
    public String path() { return path; }
    public int width() { return width; }
    public int height() { return height; }
    public String encoding() { return encoding; }
    public int channels() { return channels; }

    public boolean isRaw() {
        return RAW.equals(encoding);
    }

    @Override
    public String toString() {
        return "ImageRecord[" + wnid + "/" + label + " " + width + "x" + height + "x" + channels + " " + encoding + " " + path + "]";
    }
}
