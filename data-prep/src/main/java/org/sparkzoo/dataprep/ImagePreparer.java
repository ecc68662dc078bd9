package org.sparkzoo.dataprep;

import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.sparkzoo.dataprep.image.BadImageException;
import org.sparkzoo.dataprep.image.Image;
import org.sparkzoo.dataprep.image.ImageCodec;
import org.sparkzoo.dataprep.io.HadoopConf;
import org.sparkzoo.dataprep.source.Sources;
import org.sparkzoo.dataprep.source.WorkItem;
import org.sparkzoo.dataprep.transform.CenterCrop;
import org.sparkzoo.dataprep.transform.Presets;
import org.sparkzoo.dataprep.transform.Resize;

import java.io.IOException;
import java.io.Serializable;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Prepares one source image on an executor: read, decode (reduced-size for big JPEGs), resize the short
 * side, optional val center crop, encode; plus the seeded augmented copies. Failures become quarantine
 * verdicts, never exceptions: one bad file must not fail the job.
 */
final class ImagePreparer implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Files larger than this are quarantined without reading (no real photo is). */
    static final long MAX_FILE_BYTES = 512L << 20;

    private final PrepOptions options;
    private final int channels;
    private final HadoopConf conf;

    ImagePreparer(PrepOptions options, int channels, HadoopConf conf) {
        this.options = options;
        this.channels = channels;
        this.conf = conf;
    }

    List<Prepared> prepare(WorkItem w) {
        List<Prepared> out = new ArrayList<>(1 + options.augmentCopies);
        if (w.rejectReason != null) {
            out.add(reject(w, w.rejectReason));
            return out;
        }
        Image img;
        try {
            img = decode(w);
        } catch (BadImageException e) {
            out.add(reject(w, e.getMessage()));
            return out;
        } catch (IOException e) {
            out.add(reject(w, "cannot read: " + e));
            return out;
        } catch (RuntimeException e) {           // OpenCV errors surface as RuntimeException
            out.add(reject(w, "decoder failed: " + e.getMessage()));
            return out;
        }
        int s = options.resizeShortSide;
        if (s > 0 && img.shortSide() > s) img = new Resize(s).apply(img, null);
        Image stored = img;
        if (Sources.VAL.equals(w.split) && options.valCenterCrop > 0) stored = new CenterCrop(options.valCenterCrop).apply(img, null);
        out.add(row(w, 0, stored));
        if (Sources.TRAIN.equals(w.split)) {
            int crop = s > 0 ? Math.min(s, img.shortSide()) : img.shortSide();
            for (int k = 1; k <= options.augmentCopies; k++) {
                Random rng = new Random(shuffleKey(options.seed ^ 0x5DEECE66DL, w.split, w.path, k));
                out.add(row(w, k, Presets.augment(crop).apply(img, rng)));
            }
        }
        return out;
    }

    private Image decode(WorkItem w) throws IOException, BadImageException {
        if (w.pixels != null) {
            Image grey = new Image(w.pixels, w.pixelsHeight, w.pixelsWidth, 1);
            return channels == 1 ? grey : greyToRgb(grey);
        }
        Path p = new Path(URI.create(w.uri));
        FileSystem fs = p.getFileSystem(conf.get());
        byte[] bytes;
        if (w.offset >= 0) {
            if (w.length > MAX_FILE_BYTES) throw new BadImageException("file of " + w.length + " bytes exceeds " + MAX_FILE_BYTES);
            bytes = new byte[(int) w.length];
            try (FSDataInputStream in = fs.open(p)) {
                in.readFully(w.offset, bytes);
            }
        } else {
            long len = fs.getFileStatus(p).getLen();
            if (len > MAX_FILE_BYTES) throw new BadImageException("file of " + len + " bytes exceeds " + MAX_FILE_BYTES);
            try (FSDataInputStream in = fs.open(p)) {
                bytes = in.readAllBytes();
            }
        }
        return ImageCodec.decode(bytes, channels, options.resizeShortSide);
    }

    private static Image greyToRgb(Image g) {
        byte[] rgb = new byte[g.data.length * 3];
        for (int i = 0, j = 0; i < g.data.length; i++, j += 3) rgb[j] = rgb[j + 1] = rgb[j + 2] = g.data[i];
        return new Image(rgb, g.height, g.width, 3);
    }

    private Prepared row(WorkItem w, int copy, Image img) {
        boolean raw = ImageRecord.RAW.equals(options.storage);
        byte[] bytes = raw ? img.data : ImageCodec.encodeJpeg(img, options.jpegQuality);
        return new Prepared(w.split, shuffleKey(options.seed, w.split, w.path, copy), w.label, w.wnid, w.path, copy,
                bytes, img.width, img.height, img.channels, options.storage, null);
    }

    private Prepared reject(WorkItem w, String reason) {
        return new Prepared(w.split, shuffleKey(options.seed, w.split, w.path, 0), w.label, w.wnid, w.path, 0,
                null, 0, 0, 0, null, reason);
    }

    /** A well-mixed 64-bit hash of (seed, split, path, copy): FNV-1a over the UTF-8 bytes, then SplitMix64's finaliser. */
    static long shuffleKey(long seed, String split, String path, int copy) {
        long h = 0xcbf29ce484222325L ^ seed;
        for (byte b : (split + "\u0000" + path + "\u0000" + copy).getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        h += 0x9E3779B97F4A7C15L;
        h = (h ^ (h >>> 30)) * 0xBF58476D1CE4E5B9L;
        h = (h ^ (h >>> 27)) * 0x94D049BB133111EBL;
        return h ^ (h >>> 31);
    }
}
