package org.sparkzoo.dataprep.idx;

import org.sparkzoo.dataprep.image.Image;
import org.sparkzoo.dataprep.image.ImageCodec;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

/**
 * Converts MNIST-family IDX files into the ImageNet layout that prep-job reads:
 * <pre>
 *   train/&lt;wnid&gt;/&lt;wnid&gt;_&lt;n&gt;.JPEG          n = index in the IDX training file
 *   val/ILSVRC2012_val_&lt;8 digits&gt;.JPEG      numbered from 1 in IDX test-file order
 *   LOC_val_solution.csv                    Kaggle form: ImageId,PredictionString ("&lt;wnid&gt; 0 0 w h")
 *   LOC_synset_mapping.txt                  "&lt;wnid&gt; &lt;name&gt;" per line
 * </pre>
 * Class ids are pseudo-wnids {@code n90000000 + label} ({@link IdxFile#pseudoWnid}), whose sorted order is the
 * label order, so the class index prep-job builds gives every class its original label. Images are grey
 * JPEGs at quality 95 by default (near-lossless at 28x28).
 *
 * <p>Usage: {@code IdxToImageNet <idx-dir | idx files...> <output-dir> [--class-names a,b,...]
 * [--limit-train N] [--limit-val N] [--quality Q]}
 */
public final class IdxToImageNet {
    private IdxToImageNet() {
    }

    /** What a conversion wrote. */
    public static final class Result {
        public int train;
        public int val;
        public List<String> wnids = new ArrayList<>();
        public List<String> names = new ArrayList<>();
        public Path output;

        @Override
        public String toString() {
            return "wrote " + train + " train and " + val + " val images of " + wnids.size() + " classes to " + output
                    + " (class ids are pseudo-wnids n90000000+label, sorted order = label order)";
        }
    }

    /** Bad input (a missing or malformed file or option) ends with one line naming it and exit status 1. */
    public static void main(String[] args) {
        try {
            run(args);
        } catch (IOException | UncheckedIOException | IllegalArgumentException | IndexOutOfBoundsException e) {
            String what = e instanceof IndexOutOfBoundsException ? "an option without its value: " + String.join(" ", args)
                    : e instanceof NumberFormatException ? "a number expected: " + e.getMessage()
                    : String.valueOf(e instanceof UncheckedIOException ? e.getCause() : e.getMessage());
            System.err.println("IdxToImageNet: " + what);
            System.exit(1);
        }
    }

    private static void run(String[] args) throws IOException {
        List<String> positional = new ArrayList<>();
        String classNames = null;
        int limitTrain = 0, limitVal = 0, quality = 95;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--class-names" -> classNames = args[++i];
                case "--limit-train" -> limitTrain = Integer.parseInt(args[++i]);
                case "--limit-val" -> limitVal = Integer.parseInt(args[++i]);
                case "--quality" -> quality = Integer.parseInt(args[++i]);
                case "-h", "--help" -> {
                    System.out.println("usage: IdxToImageNet <idx-dir | idx files...> <output-dir> [--class-names a,b,...] "
                            + "[--limit-train N] [--limit-val N] [--quality 95]");
                    return;
                }
                default -> positional.add(args[i]);
            }
        }
        if (positional.size() < 2) {
            System.err.println("usage: IdxToImageNet <idx-dir | idx files...> <output-dir> [--class-names a,b,...] [--limit-train N] [--limit-val N] [--quality 95]");
            System.exit(2);
        }
        List<Path> inputs = new ArrayList<>();
        for (String s : positional.subList(0, positional.size() - 1)) inputs.add(Paths.get(s));
        long t0 = System.nanoTime();
        Result r = convert(inputs, Paths.get(positional.get(positional.size() - 1)),
                classNames == null ? null : classNames.split(","), limitTrain, limitVal, quality);
        System.out.printf(Locale.ROOT, "%s in %.1f s%n", r, (System.nanoTime() - t0) / 1e9);
    }

    /** The four IDX files of a folder or an explicit list: train images/labels, test (t10k) images/labels. */
    public static Path[] locate(List<Path> inputs) throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path p : inputs) {
            if (Files.isDirectory(p)) {
                try (var s = Files.list(p)) {
                    s.filter(Files::isRegularFile).sorted().forEach(files::add);
                }
            } else {
                files.add(p);
            }
        }
        Path[] found = new Path[4];
        for (Path f : files) {
            String n = f.getFileName().toString().toLowerCase(Locale.ROOT);
            if (!n.contains("idx")) continue;
            boolean test = n.startsWith("t10k") || n.contains("test");
            boolean images = n.contains("images") || n.contains("idx3");
            int slot = (test ? 2 : 0) + (images ? 0 : 1);
            if (found[slot] == null) found[slot] = f;
        }
        if (found[0] == null || found[1] == null) {
            throw new IllegalArgumentException("no IDX training files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz]) in " + inputs
                    + ": give the folder that holds them (Debian's dataset-fashion-mnist: /usr/share/datasets/fashion-mnist)");
        }
        return found;
    }

    public static IdxFile readIdx(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            return IdxFile.read(in, p.toString());
        }
    }

    public static Result convert(List<Path> inputs, Path out, String[] classNames, int limitTrain, int limitVal, int quality) throws IOException {
        Path[] f = locate(inputs);
        IdxFile trainImages = readIdx(f[0]), trainLabels = readIdx(f[1]);
        IdxFile valImages = f[2] != null ? readIdx(f[2]) : null, valLabels = f[3] != null ? readIdx(f[3]) : null;
        check(trainImages, trainLabels, f[0], f[1]);
        if (valImages != null) check(valImages, valLabels, f[2], f[3]);

        int numClasses = 0;
        for (int i = 0; i < trainLabels.count; i++) numClasses = Math.max(numClasses, trainLabels.label(i) + 1);
        String[] names = classNames != null ? classNames : IdxFile.defaultNames(f[0].toAbsolutePath().toString(), numClasses);
        if (names.length < numClasses) {
            throw new IllegalArgumentException(names.length + " class names given for " + numClasses + " classes");
        }
        Result r = new Result();
        r.output = out;
        StringBuilder mapping = new StringBuilder();
        for (int c = 0; c < numClasses; c++) {
            String wnid = IdxFile.pseudoWnid(c);
            r.wnids.add(wnid);
            r.names.add(names[c].trim());
            mapping.append(wnid).append(' ').append(names[c].trim()).append('\n');
            Files.createDirectories(out.resolve("train").resolve(wnid));
        }
        Files.createDirectories(out.resolve("val"));
        Files.writeString(out.resolve("LOC_synset_mapping.txt"), mapping.toString(), StandardCharsets.UTF_8);

        int nTrain = limitTrain > 0 ? Math.min(limitTrain, trainImages.count) : trainImages.count;
        IntStream.range(0, nTrain).parallel().forEach(i -> {
            String wnid = IdxFile.pseudoWnid(trainLabels.label(i));
            write(out.resolve("train").resolve(wnid).resolve(wnid + "_" + i + ".JPEG"), trainImages, i, quality);
        });
        r.train = nTrain;

        StringBuilder solution = new StringBuilder("ImageId,PredictionString\n");
        if (valImages != null) {
            int nVal = limitVal > 0 ? Math.min(limitVal, valImages.count) : valImages.count;
            IntStream.range(0, nVal).parallel().forEach(i ->
                    write(out.resolve("val").resolve(valName(i + 1) + ".JPEG"), valImages, i, quality));
            for (int i = 0; i < nVal; i++) {
                solution.append(valName(i + 1)).append(',').append(IdxFile.pseudoWnid(valLabels.label(i)))
                        .append(" 0 0 ").append(valImages.cols).append(' ').append(valImages.rows).append('\n');
            }
            r.val = nVal;
        }
        Files.writeString(out.resolve("LOC_val_solution.csv"), solution.toString(), StandardCharsets.UTF_8);
        return r;
    }

    static String valName(int oneBased) {
        return String.format("ILSVRC2012_val_%08d", oneBased);
    }

    private static void check(IdxFile images, IdxFile labels, Path pi, Path pl) {
        if (images == null || labels == null || !images.isImages() || labels.isImages() || images.count != labels.count) {
            throw new IllegalArgumentException("IDX files do not pair up: " + pi + " and " + pl);
        }
    }

    private static void write(Path file, IdxFile images, int i, int quality) {
        byte[] jpeg = ImageCodec.encodeJpeg(new Image(images.image(i), images.rows, images.cols, 1), quality);
        try {
            Files.write(file, jpeg);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
