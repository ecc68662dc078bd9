package org.sparkzoo.jobs.bench;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.sparkzoo.dataprep.idx.IdxFile;
import org.sparkzoo.dataprep.image.Image;
import org.sparkzoo.dataprep.transform.Resize;
import org.sparkzoo.jobs.JobMain;
import org.sparkzoo.jobs.NativeMemory;
import org.sparkzoo.jobs.cli.Cli;
import org.sparkzoo.jobs.cli.UserError;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelRegistry;
import org.sparkzoo.models.ModelStats;
import org.sparkzoo.models.NativeKernels;
import org.sparkzoo.models.WeightDecayKind;
import org.sparkzoo.models.training.SgdMomentum;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The sparkzoo side of {@code scripts/bench-kernels} (issue 11): trains zoo models in one JVM, without Spark, the way
 * {@code scripts/bench/torch_kernels.py} trains its PyTorch peers: the same real Fashion-MNIST images (resized once,
 * bilinear, grey replicated to the channels, scaled to [0, 1]), batch, input, classes, SGD with (Nesterov) momentum,
 * warm-up steps (and seconds), then images/s = batch / median step time, and over the mean step. Prints one JSON
 * line per model. The thread count is the native kernels' (OpenMP) one: the script sets {@code OMP_NUM_THREADS}, and the line reports what ND4J runs with.
 */
public final class KernelBench {
    private static final long POOL_BYTES = 256L << 20;
    /** Folder for async-profiler's collapsed stacks of the timed steps; set by scripts/bench-kernels --profile. */
    static final String PROFILE_PROPERTY = "sparkzoo.bench.profile";
    /** Extra async-profiler start options, e.g. {@code cstack=dwarf} to unwind libnd4j's frames, which have no frame pointers. */
    static final String PROFILE_OPTIONS_PROPERTY = "sparkzoo.bench.profile.options";
    private static final int TRAIN_IMAGES = 60_000;

    /** What the command line sets; the defaults are torch_kernels.py's. */
    static final class Options {
        List<String> models = List.of("lenet5");
        int batch = 64;
        int imageSize = 28;
        int channels = 0;
        int classes = 10;
        int steps = 20;
        int warmup = 5;
        double warmupSeconds = 0;
        double lr = 0.01;
        double momentum = 0.9;
        boolean nesterov = true;
        String dataDir = "/usr/share/datasets/fashion-mnist";
    }

    private KernelBench() {
    }

    static Cli<Options> cli() {
        Options d = new Options();
        return new Cli<Options>("bench-kernels", "per-core training speed of zoo models in one JVM without Spark (images/s, median step)")
                .string("model", "<name,name,...>", String.join(",", d.models), "zoo models, comma-separated",
                        (o, v) -> o.models = Arrays.asList(v.split(",")))
                .integer("batch", d.batch, "minibatch size", (o, v) -> o.batch = v)
                .integer("image-size", d.imageSize, "input side in pixels", (o, v) -> o.imageSize = v)
                .integer("channels", "1 for lenet5, else 3", "input channels", (o, v) -> o.channels = v)
                .integer("classes", d.classes, "classifier outputs (at least 10: Fashion-MNIST's labels)", (o, v) -> o.classes = v)
                .integer("steps", d.steps, "timed steps", (o, v) -> o.steps = v)
                .integer("warmup", d.warmup, "untimed steps first", (o, v) -> o.warmup = v)
                .decimal("warmup-seconds", d.warmupSeconds, "warm up for at least this long as well as --warmup steps (the JIT compiler needs thousands of small steps)",
                        (o, v) -> o.warmupSeconds = v)
                .decimal("lr", d.lr, "SGD learning rate", (o, v) -> o.lr = v)
                .decimal("momentum", d.momentum, "SGD momentum", (o, v) -> o.momentum = v)
                .flag("no-nesterov", "plain momentum (torch.optim.SGD) instead of Nesterov (DL4J Nesterovs, train-job's default)",
                        o -> o.nesterov = false)
                .string("data-dir", "<dir>", d.dataDir, "folder with Fashion-MNIST's IDX .gz files", (o, v) -> o.dataDir = v)
                .check(o -> o.models.stream().filter(m -> !ModelRegistry.contains(m)).findFirst()
                        .map(m -> "--model " + m + " is not a zoo model (see train-job --list-models)").orElse(null))
                .check(o -> o.batch < 1 || o.imageSize < 1 || o.steps < 1 || o.warmup < 0 || o.warmupSeconds < 0
                        ? "--batch, --image-size and --steps must be at least 1, --warmup and --warmup-seconds at least 0" : null)
                .check(o -> o.classes < 10 ? "--classes must be at least 10: the labels are Fashion-MNIST's 0..9" : null)
                .check(o -> o.lr <= 0 || o.momentum < 0 ? "--lr must be > 0 and --momentum >= 0" : null);
    }

    public static void main(String[] args) {
        JobMain.run("bench-kernels", () -> {
            Options o = cli().parse(args, new Options(), System.out);
            NativeMemory.sizeFromMachine(); // before ND4J loads
            NativeKernels.Status kernels = NativeKernels.enable();
            IdxFile images = idx(o.dataDir, "train-images-idx3-ubyte.gz");
            IdxFile labels = idx(o.dataDir, "train-labels-idx1-ubyte.gz");
            for (String model : o.models) {
                System.out.println(json(run(model, o, images, labels, kernels)));
                System.gc();
            }
        });
    }

    static Map<String, Object> run(String model, Options o, IdxFile images, IdxFile labels, NativeKernels.Status kernels)
            throws Exception {
        int channels = o.channels > 0 ? o.channels : model.equals("lenet5") ? 1 : 3;
        IUpdater updater = o.nesterov ? new Nesterovs(o.lr, o.momentum) : new SgdMomentum(o.lr, o.momentum);
        ModelConfig config = ModelConfig.of(o.classes, channels, o.imageSize, o.imageSize).withSeed(0)
                .withUpdater(updater).withWeightDecay(0, WeightDecayKind.L2);
        ComputationGraph net = ModelRegistry.get(model).build(config);
        int outputs = net.getConfiguration().getNetworkOutputs().size();
        List<MultiDataSet> batches = batches(o, channels, outputs, images, labels);
        int warmup = 0;
        long warmupStart = System.nanoTime();
        while (warmup < o.warmup || (System.nanoTime() - warmupStart) / 1e9 < o.warmupSeconds) {
            net.fit(batches.get(warmup % batches.size()));
            warmup++;
        }
        double[] seconds = new double[o.steps];
        String extra = System.getProperty(PROFILE_OPTIONS_PROPERTY, "");
        profiler("start,event=cpu,interval=5ms" + (extra.isEmpty() ? "" : "," + extra));
        for (int i = 0; i < o.steps; i++) {
            MultiDataSet b = batches.get((warmup + i) % batches.size());
            long t0 = System.nanoTime();
            net.fit(b);
            seconds[i] = (System.nanoTime() - t0) / 1e9;
        }
        profiler("stop,collapsed,file=" + System.getProperty(PROFILE_PROPERTY, "") + "/" + model + ".collapsed.txt");
        double median = median(seconds);
        double mean = Arrays.stream(seconds).average().orElse(median);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("peer", "sparkzoo");
        m.put("model", model);
        m.put("threads", kernels.threads);
        m.put("batch", o.batch);
        m.put("image_size", o.imageSize);
        m.put("channels", channels);
        m.put("classes", o.classes);
        m.put("params", ModelStats.trainableParams(net.getConfiguration()));
        m.put("images_per_second", round(o.batch / median, 3));
        m.put("seconds_per_step", round(median, 6));
        m.put("images_per_second_mean", round(o.batch / mean, 3));
        m.put("seconds_per_step_p10_p90_p99", List.of(
                round(quantile(seconds, 0.1), 6), round(quantile(seconds, 0.9), 6), round(quantile(seconds, 0.99), 6)));
        m.put("timing", "median step");
        m.put("steps", o.steps);
        m.put("warmup", warmup);
        m.put("warmup_seconds", o.warmupSeconds);
        m.put("optimizer", String.format(Locale.ROOT, "sgd lr %s momentum %s%s", o.lr, o.momentum, o.nesterov ? " nesterov" : ""));
        m.put("loss", round(net.score(), 4));
        m.put("native_kernels", kernels.line());
        return m;
    }

    /** Distinct batches while they fit {@link #POOL_BYTES}, then cycled; as torch_peers.pool_batches. */
    static List<MultiDataSet> batches(Options o, int channels, int outputs, IdxFile images, IdxFile labels) {
        if (o.batch > TRAIN_IMAGES) {
            throw new UserError("--batch " + o.batch + " is more than Fashion-MNIST's 60,000 training images");
        }
        long perBatch = (long) o.batch * channels * o.imageSize * o.imageSize * 4;
        int count = (int) Math.max(1, Math.min(o.warmup + o.steps, Math.min(POOL_BYTES / perBatch, TRAIN_IMAGES / o.batch)));
        int plane = o.imageSize * o.imageSize;
        Resize resize = new Resize(o.imageSize);
        List<MultiDataSet> out = new ArrayList<>();
        for (int b = 0; b < count; b++) {
            float[] x = new float[o.batch * channels * plane];
            float[] y = new float[o.batch * o.classes];
            for (int i = 0; i < o.batch; i++) {
                int index = b * o.batch + i;
                Image img = new Image(images.image(index), images.rows, images.cols, 1);
                if (img.height != o.imageSize) {
                    img = resize.apply(img, null);
                }
                for (int c = 0; c < channels; c++) {
                    for (int p = 0; p < plane; p++) {
                        x[(i * channels + c) * plane + p] = (img.data[p] & 0xff) / 255f;
                    }
                }
                y[i * o.classes + labels.label(index)] = 1f;
            }
            INDArray features = Nd4j.create(x, new long[]{o.batch, channels, o.imageSize, o.imageSize}, 'c');
            INDArray oneHot = Nd4j.create(y, new long[]{o.batch, o.classes}, 'c');
            INDArray[] perOutput = new INDArray[outputs];
            Arrays.fill(perOutput, oneHot);
            out.add(new MultiDataSet(new INDArray[]{features}, perOutput));
        }
        return out;
    }

    private static IdxFile idx(String dir, String name) throws IOException {
        Path path = Paths.get(dir, name);
        if (!Files.isReadable(path)) {
            throw new UserError("cannot read Fashion-MNIST file " + path
                    + ": apt-get install dataset-fashion-mnist, or pass --data-dir DIR with the four IDX .gz files");
        }
        try (InputStream in = new FileInputStream(path.toFile())) {
            return IdxFile.read(in, path.toString());
        }
    }

    /**
     * Runs an async-profiler command when profiling was asked for (the script puts its jar on the class path and loads
     * the agent), so that only the timed steps are sampled, not start-up and JIT compilation. Reflective: the
     * profiler is a benchmark tool, not a dependency of the project.
     */
    private static void profiler(String command) throws Exception {
        if (System.getProperty(PROFILE_PROPERTY) == null) {
            return;
        }
        Class<?> c = Class.forName("one.profiler.AsyncProfiler");
        Object instance = c.getMethod("getInstance").invoke(null);
        c.getMethod("execute", String.class).invoke(instance, command);
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    /** The q-quantile of {@code values}, nearest rank: how the slow steps spread, beside the median. */
    static double quantile(double[] values, double q) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v[(int) Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))];
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    private static String json(Map<String, Object> m) {
        StringBuilder s = new StringBuilder("{");
        for (Map.Entry<String, Object> e : m.entrySet()) {
            if (s.length() > 1) s.append(", ");
            s.append('"').append(e.getKey()).append("\": ");
            Object v = e.getValue();
            s.append(v instanceof String ? "\"" + ((String) v).replace("\\", "\\\\").replace("\"", "\\\"") + "\"" : String.valueOf(v));
        }
        return s.append('}').toString();
    }
}
