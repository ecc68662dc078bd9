package org.sparkzoo.dataprep;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Test data: the committed real photos (src/test/resources/photos, see README there) and Fashion-MNIST. */
public final class Fixtures {
    public static final Path FASHION_MNIST = Paths.get("/usr/share/datasets/fashion-mnist");

    private Fixtures() {
    }

    public static byte[] photo(String name) {
        try (InputStream in = Fixtures.class.getResourceAsStream("/photos/" + name)) {
            if (in == null) throw new IllegalArgumentException("no test photo " + name);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path fashionMnist() {
        if (!Files.isRegularFile(FASHION_MNIST.resolve("train-images-idx3-ubyte.gz"))) {
            throw new IllegalStateException("Fashion-MNIST is missing: apt-get install dataset-fashion-mnist (" + FASHION_MNIST + ")");
        }
        return FASHION_MNIST;
    }

    public static void write(Path file, byte[] bytes) {
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
