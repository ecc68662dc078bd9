package org.sparkzoo.dataprep.io;

import org.apache.hadoop.fs.FSDataInputStream;

import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Lists the regular files of a tar archive (ustar, GNU long names, pax path/size) by reading only its
 * 512-byte headers and seeking over the contents, so a 140 GB {@code ILSVRC2012_img_train.tar} (a tar of
 * per-class tars) is indexed in place, without unpacking, and each file is later read by offset.
 */
public final class TarIndex {
    private TarIndex() {
    }

    /** A regular file inside a tar: its name and where its bytes lie in the underlying file. */
    public static final class Entry {
        public final String name;
        public final long dataOffset;
        public final long size;

        Entry(String name, long dataOffset, long size) {
            this.name = name;
            this.dataOffset = dataOffset;
            this.size = size;
        }

        @Override
        public String toString() {
            return name + "@" + dataOffset + "+" + size;
        }
    }

    /** Lists the archive that occupies [start, start + length) of {@code in} (a whole file: 0, its length). */
    public static List<Entry> list(FSDataInputStream in, long start, long length, String name) throws IOException {
        List<Entry> entries = new ArrayList<>();
        byte[] header = new byte[512];
        long pos = start, end = start + length;
        String longName = null;
        Long paxSize = null;
        while (pos + 512 <= end) {
            in.readFully(pos, header, 0, 512);
            if (isZero(header)) break;
            if (!checksumOk(header)) throw new IOException(name + ": not a tar archive (bad header checksum at byte " + (pos - start) + ")");
            String entryName = cString(header, 0, 100);
            String prefix = new String(header, 257, 5, StandardCharsets.US_ASCII).equals("ustar") ? cString(header, 345, 155) : "";
            if (!prefix.isEmpty()) entryName = prefix + "/" + entryName;
            long size = number(header, 124, 12);
            char type = (char) header[156];
            long data = pos + 512;
            long next = data + ((size + 511) / 512) * 512;
            if (type == 'L') {
                longName = cString(readBytes(in, data, (int) size), 0, (int) size);
            } else if (type == 'x') {
                String pax = new String(readBytes(in, data, (int) size), StandardCharsets.UTF_8);
                for (String rec : pax.split("\n")) {
                    int sp = rec.indexOf(' '), eq = rec.indexOf('=');
                    if (sp < 0 || eq < sp) continue;
                    String key = rec.substring(sp + 1, eq), value = rec.substring(eq + 1);
                    if (key.equals("path")) longName = value;
                    if (key.equals("size")) paxSize = Long.parseLong(value.trim());
                }
            } else {
                if (paxSize != null) {
                    size = paxSize;
                    next = data + ((size + 511) / 512) * 512;
                }
                if (longName != null) entryName = longName;
                if (type == '0' || type == '\0' || type == '7') entries.add(new Entry(entryName, data, size));
                longName = null;
                paxSize = null;
            }
            pos = next;
        }
        return entries;
    }

    private static byte[] readBytes(FSDataInputStream in, long pos, int n) throws IOException {
        byte[] b = new byte[n];
        in.readFully(pos, b, 0, n);
        return b;
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) if (x != 0) return false;
        return true;
    }

    private static boolean checksumOk(byte[] h) {
        long stored;
        try {
            stored = number(h, 148, 8);
        } catch (IOException e) {
            return false;
        }
        long sum = 0;
        for (int i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? ' ' : (h[i] & 0xff);
        return sum == stored;
    }

    private static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && end < b.length && b[end] != 0) end++;
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    /** Octal (space/NUL padded), or GNU base-256 when the high bit of the first byte is set. */
    private static long number(byte[] b, int off, int len) throws IOException {
        if ((b[off] & 0x80) != 0) {
            long v = b[off] & 0x7f;
            for (int i = 1; i < len; i++) v = (v << 8) | (b[off + i] & 0xff);
            return v;
        }
        long v = 0;
        boolean any = false;
        for (int i = off; i < off + len; i++) {
            int c = b[i];
            if (c == 0 || c == ' ') {
                if (any) break;
                continue;
            }
            if (c < '0' || c > '7') throw new EOFException("bad octal field");
            v = v * 8 + (c - '0');
            any = true;
        }
        return v;
    }
}
