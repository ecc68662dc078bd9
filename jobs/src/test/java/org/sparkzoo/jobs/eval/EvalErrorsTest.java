package org.sparkzoo.jobs.eval;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.sparkzoo.jobs.checkpoint.Checkpoints;
import org.sparkzoo.jobs.checkpoint.TrainState;
import org.sparkzoo.jobs.cli.UserError;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each bad checkpoint is refused on the driver, before any task, with one line that names the file and the fix. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EvalErrorsTest {
    private FashionMnistRun run;
    private Path dir;

    @BeforeAll
    void setUp() throws IOException {
        run = FashionMnistRun.get();
        dir = Files.createDirectories(run.root.resolve("bad-checkpoints"));
    }

    private UserError refused(String checkpoint, String... expected) {
        UserError e = assertThrows(UserError.class, () -> run.evaluate("center", run.modelA, checkpoint));
        String m = e.getMessage();
        assertFalse(m.contains("\n"), "one line: " + m);
        // named as Hadoop qualifies it (file:/tmp/x for file:///tmp/x): the path itself must be there
        assertTrue(m.contains(Path.of(URI.create(checkpoint)).toString()), "names the checkpoint: " + m);
        for (String s : expected) {
            assertTrue(m.contains(s), "'" + s + "' in: " + m);
        }
        return e;
    }

    /** A copy of model A whose train-job state is changed by {@code edit}. */
    private String withState(String name, Consumer<TrainState> edit) throws IOException {
        Checkpoints.Loaded a = Checkpoints.load(run.modelA, run.hadoop, false);
        edit.accept(a.state);
        return Checkpoints.write(a.network, a.state, new org.apache.hadoop.fs.Path(dir.resolve(name).toUri()), run.hadoop);
    }

    private Path local(String uri) {
        return Path.of(URI.create(uri));
    }

    @Test
    void missingCheckpoint() {
        refused(dir.resolve("nope/model.zip").toUri().toString(), "does not exist", "train-job wrote");
    }

    @Test
    void corruptCheckpoints() throws IOException {
        byte[] good = Files.readAllBytes(local(run.modelA));
        Path truncated = Files.write(dir.resolve("truncated.zip"), java.util.Arrays.copyOf(good, good.length / 2));
        refused(truncated.toUri().toString(), "is corrupt", "use another checkpoint");

        byte[] noise = new byte[4096];
        new Random(7).nextBytes(noise);
        Path garbage = Files.write(dir.resolve("garbage.zip"), noise);
        refused(garbage.toUri().toString(), "is corrupt");

        // flip bytes inside the stored network: the archive opens, but an entry's CRC no longer matches
        byte[] damaged = good.clone();
        for (int i = good.length / 3; i < good.length / 3 + 64; i++) {
            damaged[i] ^= 0x5a;
        }
        Path flipped = Files.write(dir.resolve("flipped.zip"), damaged);
        refused(flipped.toUri().toString(), "is corrupt");

        Path notAModel = dir.resolve("not-a-model.zip");
        try (OutputStream out = Files.newOutputStream(notAModel); ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.putNextEntry(new ZipEntry("readme.txt"));
            zip.write("hello".getBytes());
            zip.closeEntry();
        }
        refused(notAModel.toUri().toString(), "has no configuration.json");
    }

    @Test
    void classIndexDiffersFromTheManifest() throws IOException {
        String shuffled = withState("shuffled-classes.zip", s -> {
            List<String> c = new ArrayList<>(s.classes);
            Collections.swap(c, 0, 1);
            s.classes = c;
        });
        refused(shuffled, "class index", "first difference at index 0", "manifest", "evaluate it on the dataset it was trained on");
        String fewer = withState("fewer-classes.zip", s -> s.classes = new ArrayList<>(s.classes.subList(0, 9)));
        refused(fewer, "9 classes", "10 classes");
    }

    @Test
    void imageSizeTheModelCannotTake() throws IOException {
        String tiny = withState("tiny-input.zip", s -> s.imageSize = 8);
        refused(tiny, "8px", "below lenet5's minimum of 12px", "--image-size 12");
    }
}
