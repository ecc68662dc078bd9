package org.sparkzoo.jobs.checkpoint;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.sparkzoo.jobs.cli.UserError;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Checkpoints of a run: one zip per checkpoint holding DL4J's network (configuration, parameters, updater state)
 * and {@link TrainState} as JSON. Written to a temporary name beside the target and renamed, so a crash never
 * leaves a half-written file under a checkpoint's name; works on any Hadoop file system.
 */
public final class Checkpoints {
    public static final String STATE_ENTRY = "sparkzoo-state.json";
    public static final String DIR = "checkpoints";
    /** The best network by validation top-1, kept apart from the periodic checkpoints. */
    public static final String BEST = "best.zip";
    private static final Pattern PERIODIC = Pattern.compile("ckpt-e(\\d+)-r(\\d+)\\.zip");
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final Path dir;
    private final Configuration conf;
    /** The top-1 recorded in best.zip when this driver first looked; null until then. */
    private Double bestOnDisk;

    public Checkpoints(String runDir, Configuration conf) {
        this.dir = new Path(runDir, DIR);
        this.conf = conf;
    }

    /** A checkpoint loaded back: the network (with updater state if asked) and its state. */
    public static final class Loaded {
        public final String uri;
        public final ComputationGraph network;
        public final TrainState state;

        public Loaded(String uri, ComputationGraph network, TrainState state) {
            this.uri = uri;
            this.network = network;
            this.state = state;
        }
    }

    public static String periodicName(int epoch, int round) {
        return String.format("ckpt-e%04d-r%06d.zip", epoch, round);
    }

    /** Saves under {@code checkpoints/<name>} atomically and returns its URI. */
    public String save(ComputationGraph net, TrainState state, String name) throws IOException {
        return write(net, state, new Path(dir, name));
    }

    /** Saves anywhere (e.g. the run's final {@code model.zip}) atomically and returns its URI. */
    public static String write(ComputationGraph net, TrainState state, Path target, Configuration conf) throws IOException {
        java.nio.file.Path local = Files.createTempFile("sparkzoo-ckpt", ".zip");
        try {
            ModelSerializer.writeModel(net, local.toFile(), true);
            state.savedAtMillis = System.currentTimeMillis();
            try (java.nio.file.FileSystem zip = FileSystems.newFileSystem(local, (ClassLoader) null)) {
                Files.write(zip.getPath(STATE_ENTRY), JSON.writeValueAsBytes(state));
            }
            FileSystem fs = target.getFileSystem(conf);
            fs.mkdirs(target.getParent());
            Path tmp = new Path(target.getParent(), "." + target.getName() + ".tmp-" + System.nanoTime());
            fs.copyFromLocalFile(false, true, new Path(local.toUri()), tmp);
            if (fs.exists(target) && !fs.delete(target, false)) {
                throw new IOException("cannot replace " + target);
            }
            if (!fs.rename(tmp, target)) {
                fs.delete(tmp, false);
                throw new IOException("cannot rename " + tmp + " to " + target);
            }
            return fs.makeQualified(target).toString();
        } finally {
            Files.deleteIfExists(local);
        }
    }

    private String write(ComputationGraph net, TrainState state, Path target) throws IOException {
        return write(net, state, target, conf);
    }

    /**
     * Writes {@value #BEST} when {@code top1} beats the run's best so far and returns whether it did. The best
     * counts what best.zip already holds: the epoch's checkpoint is written before its validation, so after a
     * resume the checkpoint's {@link TrainState#bestTop1} can be older than best.zip. Either way the best top-1
     * is kept in {@code state}, so the next checkpoint carries it.
     */
    public boolean keepIfBest(ComputationGraph net, TrainState state, double top1) throws IOException {
        if (bestOnDisk == null) {
            Path best = new Path(dir, BEST);
            bestOnDisk = best.getFileSystem(conf).exists(best) ? readState(best.toString(), conf).bestTop1 : -1;
        }
        state.bestTop1 = Math.max(state.bestTop1, bestOnDisk);
        if (!(top1 > state.bestTop1)) {
            return false;
        }
        state.bestTop1 = top1;
        save(net, state, BEST);
        bestOnDisk = top1;
        return true;
    }

    /** The newest periodic checkpoint, by (epoch, round). */
    public Optional<String> latest() throws IOException {
        FileSystem fs = dir.getFileSystem(conf);
        if (!fs.exists(dir)) {
            return Optional.empty();
        }
        return periodic(fs).stream().reduce((a, b) -> b).map(s -> fs.makeQualified(s.getPath()).toString());
    }

    private List<FileStatus> periodic(FileSystem fs) throws IOException {
        List<FileStatus> found = new ArrayList<>();
        for (FileStatus s : fs.listStatus(dir)) {
            if (PERIODIC.matcher(s.getPath().getName()).matches()) {
                found.add(s);
            }
        }
        found.sort(Comparator.comparing(s -> s.getPath().getName()));
        return found;
    }

    public boolean any() throws IOException {
        return latest().isPresent();
    }

    /** Deletes all but the newest {@code keep} periodic checkpoints. */
    public void prune(int keep) throws IOException {
        FileSystem fs = dir.getFileSystem(conf);
        List<FileStatus> all = periodic(fs);
        for (int i = 0; i < all.size() - Math.max(1, keep); i++) {
            fs.delete(all.get(i).getPath(), false);
        }
    }

    /** Reads a checkpoint (or a final model) from any Hadoop URI; errors name the file and what is wrong with it. */
    public static Loaded load(String uri, Configuration conf, boolean withUpdater) {
        Path path = new Path(uri);
        java.nio.file.Path local = null;
        try {
            FileSystem fs = path.getFileSystem(conf);
            if (!fs.exists(path)) {
                throw new UserError("checkpoint " + uri + " does not exist; pass a model.zip or checkpoints/ckpt-*.zip that train-job wrote");
            }
            local = Files.createTempFile("sparkzoo-load", ".zip");
            try (InputStream in = fs.open(path)) {
                Files.copy(in, local, StandardCopyOption.REPLACE_EXISTING);
            }
            TrainState state;
            try (java.nio.file.FileSystem zip = FileSystems.newFileSystem(local, (ClassLoader) null)) {
                java.nio.file.Path entry = zip.getPath(STATE_ENTRY);
                if (!Files.exists(entry)) {
                    throw new UserError("checkpoint " + uri + " has no " + STATE_ENTRY + ": it was not written by train-job");
                }
                state = JSON.readValue(Files.readAllBytes(entry), TrainState.class);
            }
            ComputationGraph net = ModelSerializer.restoreComputationGraph(local.toFile(), withUpdater);
            return new Loaded(path.getFileSystem(conf).makeQualified(path).toString(), net, state);
        } catch (UserError e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new UserError("checkpoint " + uri + " is corrupt or unreadable (" + e.getMessage()
                    + "); use an older checkpoint from the same run's checkpoints/ folder", e);
        } finally {
            if (local != null) {
                try {
                    Files.deleteIfExists(local);
                } catch (IOException ignored) {
                    // temp file: the OS cleans it
                }
            }
        }
    }

    /** Only the state of a checkpoint, without restoring the network. */
    public static TrainState readState(String uri, Configuration conf) throws IOException {
        Path path = new Path(uri);
        java.nio.file.Path local = Files.createTempFile("sparkzoo-state", ".zip");
        try {
            try (InputStream in = path.getFileSystem(conf).open(path)) {
                Files.copy(in, local, StandardCopyOption.REPLACE_EXISTING);
            }
            try (java.nio.file.FileSystem zip = FileSystems.newFileSystem(local, (ClassLoader) null)) {
                return JSON.readValue(Files.readAllBytes(zip.getPath(STATE_ENTRY)), TrainState.class);
            }
        } finally {
            Files.deleteIfExists(local);
        }
    }

    public static ObjectMapper json() {
        return JSON;
    }

    public static Map<String, Object> toMap(Object o) {
        return JSON.convertValue(o, Map.class);
    }
}
