package org.sparkzoo.dataprep;

import java.io.Serializable;

/** What preparing one source image yields: a row to store (original or augmented copy), or a quarantine verdict. */
final class Prepared implements Serializable {
    private static final long serialVersionUID = 1L;

    final String split;
    /** Position in the seeded global shuffle (a 64-bit hash of seed, split, path and copy). */
    final long key;
    final int label;
    final String wnid;
    final String path;
    final int copy;
    final byte[] image;
    final int width, height, channels;
    final String encoding;
    /** Non-null: the file is quarantined for this reason and there is no image. */
    final String reason;

    Prepared(String split, long key, int label, String wnid, String path, int copy, byte[] image, int width, int height,
             int channels, String encoding, String reason) {
        this.split = split;
        this.key = key;
        this.label = label;
        this.wnid = wnid;
        this.path = path;
        this.copy = copy;
        this.image = image;
        this.width = width;
        this.height = height;
        this.channels = channels;
        this.encoding = encoding;
        this.reason = reason;
    }

    boolean ok() {
        return reason == null;
    }

    /** The same without its pixels: what the driver collects. */
    Prepared summary() {
        return new Prepared(split, key, label, wnid, ok() ? null : path, copy, null, width, height, channels, encoding, reason);
    }
}
