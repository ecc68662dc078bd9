package org.sparkzoo.dataprep.idx;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/**
 * An IDX file (MNIST family, LeCun's format): big-endian magic {@code 0x0000 0803} for images
 * (n x rows x cols uint8) or {@code 0x0000 0801} for labels (n uint8). Gzipped files are recognised by content.
 */
public final class IdxFile {
    public final int count;
    public final int rows;
    public final int cols;
    /** Images: count * rows * cols bytes, row-major; labels: count bytes. */
    public final byte[] data;

    private IdxFile(int count, int rows, int cols, byte[] data) {
        this.count = count;
        this.rows = rows;
        this.cols = cols;
        this.data = data;
    }

    public boolean isImages() {
        return rows > 0;
    }

    public int label(int i) {
        return data[i] & 0xff;
    }

    /** The i-th image's pixels (grey, rows x cols). */
    public byte[] image(int i) {
        int n = rows * cols;
        byte[] out = new byte[n];
        System.arraycopy(data, i * n, out, 0, n);
        return out;
    }

    /** Reads an IDX stream, gzipped or not; {@code name} is for error messages. */
    public static IdxFile read(InputStream raw, String name) throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(raw, 1 << 16);
        buffered.mark(2);
        int b0 = buffered.read(), b1 = buffered.read();
        buffered.reset();
        InputStream in = (b0 == 0x1f && b1 == 0x8b) ? new BufferedInputStream(new GZIPInputStream(buffered, 1 << 16), 1 << 16) : buffered;
        DataInputStream d = new DataInputStream(in);
        int magic = d.readInt();
        if ((magic >>> 16) != 0 || ((magic >> 8) & 0xff) != 0x08) {
            throw new IOException(name + " is not an unsigned-byte IDX file (magic " + Integer.toHexString(magic) + ")");
        }
        int dims = magic & 0xff;
        int count = d.readInt();
        int rows = 0, cols = 0;
        if (dims == 3) {
            rows = d.readInt();
            cols = d.readInt();
        } else if (dims != 1) {
            throw new IOException(name + ": IDX with " + dims + " dimensions; expected 3 (images) or 1 (labels)");
        }
        long size = (long) count * Math.max(1, rows) * Math.max(1, cols);
        if (size > Integer.MAX_VALUE - 16) throw new IOException(name + " is too large to hold in memory (" + size + " bytes)");
        byte[] data = new byte[(int) size];
        d.readFully(data);
        return new IdxFile(count, rows, cols, data);
    }

    /** Fashion-MNIST's class names, label order. */
    public static final String[] FASHION_MNIST_NAMES = {
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

    /**
     * The pseudo-wnid for a label: {@code n90000000 + label}. Real WordNet ids are below n1500000, so these
     * never clash, and their sorted order equals the label order (the class index sorts by wnid).
     */
    public static String pseudoWnid(int label) {
        return String.format("n%08d", 90_000_000 + label);
    }

    /** Default names: Fashion-MNIST's when the source mentions "fashion", else the label numbers. */
    public static String[] defaultNames(String source, int numClasses) {
        if (source != null && source.toLowerCase().contains("fashion") && numClasses <= FASHION_MNIST_NAMES.length) {
            return FASHION_MNIST_NAMES;
        }
        String[] names = new String[numClasses];
        for (int i = 0; i < numClasses; i++) names[i] = Integer.toString(i);
        return names;
    }
}
