package org.sparkzoo.dataprep.image;

import java.io.Serializable;

/** A decoded 8-bit image: {@code data} is row-major HWC, RGB order for 3 channels, grey for 1. */
public final class Image implements Serializable {
    private static final long serialVersionUID = 1L;

    public final byte[] data;
    public final int height;
    public final int width;
    public final int channels;

    public Image(byte[] data, int height, int width, int channels) {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        }
        if (data.length != height * width * channels) {
            throw new IllegalArgumentException("data has " + data.length + " bytes, expected " + height + "x" + width + "x" + channels);
        }
        this.data = data;
        this.height = height;
        this.width = width;
        this.channels = channels;
    }

    public int shortSide() {
        return Math.min(height, width);
    }

    @Override
    public String toString() {
        return "Image[" + width + "x" + height + "x" + channels + "]";
    }
}
