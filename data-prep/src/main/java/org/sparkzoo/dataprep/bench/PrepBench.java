package org.sparkzoo.dataprep.bench;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Rect;
import org.sparkzoo.dataprep.image.BadImageException;
import org.sparkzoo.dataprep.image.Image;
import org.sparkzoo.dataprep.image.ImageCodec;
import org.sparkzoo.dataprep.image.Mats;
import org.sparkzoo.dataprep.transform.Resize;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.bytedeco.opencv.global.opencv_core.flip;

/**
 * prep-job's per-image work, timed: decode (reduced-size JPEG decoding when it applies) + Resize(256) +
 * JPEG encode at quality 90, over an ImageNet-like corpus of ~500x375 JPEGs cut from real photos.
 *
 * <p>Usage: {@code PrepBench <photos-dir> <corpus-dir> [seconds=5] [threads=1]}; writes the corpus (so another
 * tool can time the same files) and prints one line of results.
 */
public final class PrepBench {
    private PrepBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: PrepBench <photos-dir> <corpus-dir> [seconds=5] [threads=1]");
            System.exit(2);
        }
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 5;
        int threads = args.length > 3 ? Integer.parseInt(args[3]) : 1;
        List<byte[]> corpus = buildCorpus(Paths.get(args[0]), Paths.get(args[1]));
        run(corpus, 1.0, threads);                              // warm-up: JIT, OpenCV's thread pools
        double rate = run(corpus, seconds, threads);
        System.out.printf(Locale.ROOT, "java-opencv: %d files ~500x375, decode+resize(256)+encode(q90): %.1f images/s with %d thread(s), %.1f images/s per thread%n",
                corpus.size(), rate, threads, rate / threads);
    }

    /** 500x375 JPEGs (q90): four crops and their mirror images of every photo in the folder. */
    static List<byte[]> buildCorpus(Path photos, Path out) throws IOException, BadImageException {
        Files.createDirectories(out);
        List<byte[]> corpus = new ArrayList<>();
        List<Path> sources;
        try (Stream<Path> s = Files.list(photos)) {
            sources = s.filter(p -> p.getFileName().toString().matches("(chelsea|coffee|astronaut|rocket)\\.jpg")).sorted().toList();
        }
        for (Path src : sources) {
            Image img = ImageCodec.decode(Files.readAllBytes(src), 3, 0);
            Image scaled = new Resize(Math.max(400, (int) Math.ceil(375.0 * Math.max(1, (double) img.height / img.width * 500 / 375)))).apply(img, null);
            int n = 0;
            for (int[] xy : new int[][]{{0, 0}, {scaled.width - 500, 0}, {0, scaled.height - 375}, {(scaled.width - 500) / 2, (scaled.height - 375) / 2}}) {
                for (boolean mirror : new boolean[]{false, true}) {
                    Image crop;
                    try (PointerScope scope = new PointerScope()) {
                        Mat m = new Mat(Mats.toMat(scaled), new Rect(Math.max(0, xy[0]), Math.max(0, xy[1]), 500, 375)).clone();
                        if (mirror) flip(m, m, 1);
                        crop = Mats.toImage(m);
                    }
                    byte[] jpeg = ImageCodec.encodeJpeg(crop, 90);
                    Files.write(out.resolve(src.getFileName().toString().replace(".jpg", "") + "_" + n++ + ".jpg"), jpeg);
                    corpus.add(jpeg);
                }
            }
        }
        if (corpus.isEmpty()) throw new IllegalArgumentException("no photos (chelsea|coffee|astronaut|rocket).jpg in " + photos);
        return corpus;
    }

    static double run(List<byte[]> corpus, double seconds, int threads) throws InterruptedException {
        AtomicLong done = new AtomicLong();
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        Resize resize = new Resize(256);
        List<Thread> workers = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            int offset = t;
            Thread th = new Thread(() -> {
                int i = offset;
                while (System.nanoTime() < deadline) {
                    try {
                        Image img = ImageCodec.decode(corpus.get(i++ % corpus.size()), 3, 256);
                        ImageCodec.encodeJpeg(resize.apply(img, null), 90);
                        done.incrementAndGet();
                    } catch (BadImageException e) {
                        throw new IllegalStateException(e);
                    }
                }
            });
            workers.add(th);
            th.start();
        }
        for (Thread th : workers) th.join();
        return done.get() / ((System.nanoTime() - t0) / 1e9);
    }
}
