package org.sparkzoo.jobs.train;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;
import org.sparkzoo.jobs.NativeMemory;
import org.sparkzoo.jobs.SparkSessions;
import org.sparkzoo.jobs.checkpoint.Checkpoints;
import org.sparkzoo.jobs.cli.UserError;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelSpec;
import org.sparkzoo.models.ModelStats;

import java.io.IOException;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fails before the first round, with the numbers and the setting to change, when the configured memory cannot
 * hold a worker's network and minibatch, instead of an off-heap crash or a heap exhaustion mid-epoch; and, when
 * the user gave no {@code --batch-size-per-worker}, lowers the recipe's batch to the largest that fits.
 *
 * <p>A worker needs, off the Java heap (ND4J): parameters, gradients and the averaged copy (3 x params), the
 * updater state, and the activations of one minibatch (batch x the sum of every layer's output size), all in
 * float32. That is a lower bound: DL4J's workspaces add to it, and so do the next round's minibatches that
 * {@link RoundData} loads ahead (averaging frequency x batch x input size, a few percent of the activations), so
 * the limit is checked against the bound, and the documented setting (README, Memory) leaves headroom on top.
 *
 * <p>On the Java heap, every round serializes each worker's parameters and updater state (Kryo, for the task
 * result) and the driver fetches and deserializes them: measured with resnet18 and resnet50 in local mode, about
 * {@value #HEAP_COPIES_PER_WORKER} copies of them per worker, above a base of {@value #HEAP_BASE_MB} MB.
 *
 * <p>On YARN and Kubernetes an executor lives in a container of heap + {@code spark.executor.memoryOverhead}, and
 * the cluster kills it when it grows beyond; ND4J frees off-heap memory only when the GC runs, so it grows to its
 * limit whatever the model needs: {@link #checkContainers} refuses a limit the container's overhead cannot hold.
 */
public final class MemoryCheck {
    private static final Pattern MAXBYTES = Pattern.compile("-Dorg\\.bytedeco\\.javacpp\\.maxbytes=(\\S+)");
    private static final Pattern MAXPHYSICALBYTES = Pattern.compile("-Dorg\\.bytedeco\\.javacpp\\.maxphysicalbytes=(\\S+)");
    /** Spark's minimum executor memory overhead on YARN and Kubernetes (ResourceProfile.MEMORY_OVERHEAD_MIN_MIB). */
    static final long MIN_OVERHEAD = 384L << 20;
    static final double DEFAULT_OVERHEAD_FACTOR = 0.10;
    /** Heap held per worker per round, in units of its serialized parameters + updater state (measured, see above). */
    static final double HEAP_COPIES_PER_WORKER = 5.5;
    static final long HEAP_BASE_MB = 150;

    private MemoryCheck() {
    }

    /** What one worker's network holds, in float32 elements: parameters, updater state, activations per example. */
    static final class Footprint {
        final long params;
        final long updaterState;
        final long activationsPerExample;

        Footprint(long params, long updaterState, long activationsPerExample) {
            this.params = params;
            this.updaterState = updaterState;
            this.activationsPerExample = activationsPerExample;
        }

        static Footprint of(ComputationGraph net, int imageSize, int channels) {
            long updater = net.getUpdater() == null || net.getUpdater().getStateViewArray() == null ? 0
                    : net.getUpdater().getStateViewArray().length();
            return new Footprint(net.numParams(), updater, activations(net.getConfiguration(), imageSize, channels));
        }

        /** From the configuration alone (before the network is built), with one updater for every parameter. */
        static Footprint of(ComputationGraphConfiguration conf, IUpdater updater, int imageSize, int channels) {
            long params = ModelStats.allParams(conf);
            return new Footprint(params, updater.stateSize(params), activations(conf, imageSize, channels));
        }

        private static long activations(ComputationGraphConfiguration conf, int imageSize, int channels) {
            long activations = 0;
            for (InputType t : conf.getLayerActivationTypes(InputType.convolutional(imageSize, imageSize, channels)).values()) {
                activations += t.arrayElementsPerExample();
            }
            return activations;
        }

        long workerBytes(int batch) {
            return 4L * (3 * params + updaterState + (long) batch * activationsPerExample);
        }

        /** What a worker's result (and the broadcast) carries each round. */
        long serializedBytes() {
            return 4L * (params + updaterState);
        }
    }

    static long workerBytes(ComputationGraph net, int imageSize, int channels, int batch) {
        return Footprint.of(net, imageSize, channels).workerBytes(batch);
    }

    /** Where the workers' native memory comes from: this JVM (local mode) or each executor. */
    static final class Budget {
        final boolean local;
        /** Bytes allowed off-heap; 0 = unknown (no check). */
        final long available;
        /** Workers sharing that memory. */
        final int workersPerJvm;
        final String setting;

        Budget(SparkConf conf, boolean local, long localLimit, int workers) {
            this.local = local;
            if (local) {
                available = localLimit;
                workersPerJvm = workers;
                setting = "the driver's off-heap limit -Dorg.bytedeco.javacpp.maxbytes (spark.driver.extraJavaOptions; "
                        + "unset, it follows the machine's memory) and spark.driver.memory";
            } else {
                workersPerJvm = Math.max(1, Math.min(conf.getInt("spark.executor.cores", 1), workers));
                long executorHeap = conf.getSizeAsBytes("spark.executor.memory", "1g");
                Matcher m = MAXBYTES.matcher(conf.get("spark.executor.extraJavaOptions", ""));
                available = m.find() ? parseBytes(m.group(1)) : executorHeap; // javacpp's default limit is the heap size
                setting = "-Dorg.bytedeco.javacpp.maxbytes in spark.executor.extraJavaOptions (and spark.executor.memoryOverhead on YARN/Kubernetes)";
            }
        }

        /** Every worker in one JVM, and in local mode the driver's own copy of the network beside them. */
        long need(Footprint f, int batch) {
            return f.workerBytes(batch) * workersPerJvm + (local ? 4L * 2 * f.params : 0);
        }

        boolean fits(Footprint f, int batch) {
            return available <= 0 || need(f, batch) <= available;
        }
    }

    /**
     * On a YARN or Kubernetes master, refuses executor containers whose memory outside the heap
     * ({@code spark.executor.memoryOverhead}, default max(384 MB, 10% of the heap)) cannot hold ND4J's off-heap limit
     * ({@code -Dorg.bytedeco.javacpp.maxbytes}, default: the heap size) plus the JVM's own native memory, or whose size
     * is below javacpp's whole-process limit ({@code maxphysicalbytes}): the cluster would kill the executor mid-epoch.
     * Needs only the configuration, so jobs call it before they ask the cluster for anything.
     */
    public static void checkContainers(SparkConf conf) {
        String master = conf.get("spark.master", "local[*]");
        if (!master.startsWith("yarn") && !master.startsWith("k8s://")) {
            return;
        }
        String manager = master.startsWith("yarn") ? "YARN" : "Kubernetes";
        long heap = conf.getSizeAsBytes("spark.executor.memory", "1g");
        long overhead = overhead(conf, heap);
        String options = conf.get("spark.executor.extraJavaOptions", "");
        Matcher max = MAXBYTES.matcher(options);
        boolean limitSet = max.find();
        long offHeap = limitSet ? parseBytes(max.group(1)) : heap; // javacpp's default limit is the heap size
        long need = offHeap + NativeMemory.JVM_NATIVE;
        if (need > overhead) {
            throw new UserError(String.format(Locale.ROOT,
                    "executor containers on %s get %s outside the heap (spark.executor.memoryOverhead%s), but ND4J may use %s off-heap "
                            + "(-Dorg.bytedeco.javacpp.maxbytes in spark.executor.extraJavaOptions%s) and the JVM about %s more: "
                            + "%s would kill the executors mid-epoch; raise spark.executor.memoryOverhead to %dm or more, or lower maxbytes",
                    manager, mb(overhead), conf.contains("spark.executor.memoryOverhead") ? "" : ", default max(384 MB, 10% of spark.executor.memory)",
                    mb(offHeap), limitSet ? "" : ", unset: the heap size", mb(NativeMemory.JVM_NATIVE), manager, need >> 20));
        }
        Matcher physical = MAXPHYSICALBYTES.matcher(options);
        long physicalLimit = physical.find() ? parseBytes(physical.group(1)) : 0;
        if (physicalLimit > heap + overhead) {
            throw new UserError(String.format(Locale.ROOT,
                    "executor containers on %s hold %s (spark.executor.memory %s + spark.executor.memoryOverhead %s), but javacpp lets an "
                            + "executor grow to %s (-Dorg.bytedeco.javacpp.maxphysicalbytes in spark.executor.extraJavaOptions): "
                            + "raise spark.executor.memoryOverhead to %dm or more, or lower maxphysicalbytes",
                    manager, mb(heap + overhead), mb(heap), mb(overhead), mb(physicalLimit), (physicalLimit - heap + (1L << 20) - 1) >> 20));
        }
    }

    /** The container's memory beyond the heap, as Spark 3.5 sizes it for YARN and Kubernetes. */
    static long overhead(SparkConf conf, long heap) {
        if (conf.contains("spark.executor.memoryOverhead")) {
            return conf.getSizeAsMb("spark.executor.memoryOverhead", "0") << 20;
        }
        double factor = conf.getDouble("spark.executor.memoryOverheadFactor", DEFAULT_OVERHEAD_FACTOR);
        return Math.max(MIN_OVERHEAD, ((long) (factor * (heap >> 20))) << 20);
    }

    private static String mb(long bytes) {
        return (bytes >> 20) + " MB";
    }

    static void check(SparkSession spark, ModelSpec spec, ComputationGraph net, int imageSize, int channels, int batch, int workers) {
        SparkConf conf = spark.sparkContext().getConf();
        boolean local = SparkSessions.isLocal(spark);
        Footprint f = Footprint.of(net, imageSize, channels);
        checkHeap(conf, local, Runtime.getRuntime().maxMemory(), spec.name, f, workers);
        check(conf, local, Pointer.maxBytes(), spec.name, f.workerBytes(batch), net.numParams(), imageSize, batch, workers);
    }

    /**
     * @param localLimit this JVM's off-heap limit, which bounds every worker in local mode
     * @param perWorker  {@link #workerBytes} of the network
     */
    static void check(SparkConf conf, boolean local, long localLimit, String model, long perWorker, long params,
                      int imageSize, int batch, int workers) {
        Budget b = new Budget(conf, local, localLimit, workers);
        long need = perWorker * b.workersPerJvm + (local ? 4L * 2 * params : 0);
        if (b.available > 0 && need > b.available) {
            throw new UserError(String.format(Locale.ROOT,
                    "%s at %dx%d with --batch-size-per-worker %d needs at least %s of native memory per executor (%s per worker), "
                            + "but only %s is allowed: raise %s, or lower --batch-size-per-worker / --image-size",
                    model, imageSize, imageSize, batch, gb(need), gb(perWorker), gb(b.available), b.setting));
        }
    }

    /**
     * Refuses a Java heap that cannot hold the round's serialized copies of every worker's parameters and updater
     * state: local mode's driver holds all workers' results, an executor those of its cores.
     */
    static void checkHeap(SparkConf conf, boolean local, long driverHeap, String model, Footprint f, int workers) {
        int perJvm = local ? workers : Math.max(1, Math.min(conf.getInt("spark.executor.cores", 1), workers));
        long heap = local ? driverHeap : conf.getSizeAsBytes("spark.executor.memory", "1g");
        long need = (HEAP_BASE_MB << 20) + (long) (HEAP_COPIES_PER_WORKER * f.serializedBytes() * perJvm);
        if (heap > 0 && need > heap) {
            long suggestGb = (long) Math.ceil(need * 1.1 / (1L << 30));
            throw new UserError(String.format(Locale.ROOT,
                    "%s with %d worker%s per JVM needs about %s of Java heap (each round serializes every worker's %s of parameters "
                            + "and updater state on it), but %s has %s: %s, or use fewer %s",
                    model, perJvm, perJvm == 1 ? "" : "s", gb(need), gb(f.serializedBytes()),
                    local ? "the driver" : "an executor", gb(heap),
                    local ? "pass --driver-memory " + suggestGb + "g" : "raise --executor-memory to " + suggestGb + "g",
                    local ? "--workers" : "--executor-cores"));
        }
    }

    /**
     * The minibatch per worker. The user's {@code --batch-size-per-worker} is kept as given ({@link #check} refuses
     * it if it does not fit); on {@code --resume} the checkpoint's is kept (it fixes the round plan); otherwise the
     * recipe's or the default batch is lowered, if it must be, to the largest that fits the native memory, and the
     * choice is printed.
     */
    static int batchSize(SparkSession spark, ModelSpec spec, TrainOptions o, int imageSize, int numClasses, int workers,
                         Checkpoints checkpoints) throws IOException {
        if (o.batchSizeGiven) {
            return o.batchSizePerWorker;
        }
        Optional<String> latest = o.resume ? checkpoints.latest() : Optional.empty();
        if (latest.isPresent()) {
            Object saved = Checkpoints.readState(latest.get(), spark.sparkContext().hadoopConfiguration()).options.get("batchSizePerWorker");
            return saved == null ? o.batchSizePerWorker : Integer.parseInt(String.valueOf(saved));
        }
        ComputationGraphConfiguration conf = spec.configuration(ModelConfig.of(numClasses, o.channels, imageSize, imageSize));
        Footprint f = Footprint.of(conf, updaterFor(o.optimizer), imageSize, o.channels);
        Budget b = new Budget(spark.sparkContext().getConf(), SparkSessions.isLocal(spark), Pointer.maxBytes(), workers);
        int picked = largestFitting(b, f, o.batchSizePerWorker);
        if (picked != o.batchSizePerWorker && picked > 0) {
            System.out.printf(Locale.ROOT, "batch-size-per-worker: %d, the largest that fits %s of native memory with %d worker%s "
                            + "(%d needs %s); pass --batch-size-per-worker to choose%n", picked, gb(b.available),
                    b.workersPerJvm, b.workersPerJvm == 1 ? "" : "s", o.batchSizePerWorker, gb(b.need(f, o.batchSizePerWorker)));
            return picked;
        }
        return o.batchSizePerWorker; // fits, or nothing does and check() says so
    }

    /** The largest batch up to {@code preferred} whose need fits the budget; 0 if not even one image does. */
    static int largestFitting(Budget b, Footprint f, int preferred) {
        int lo = 0;
        int hi = preferred;
        while (lo < hi) { // need grows with the batch: bisect
            int mid = lo + (hi - lo + 1) / 2;
            if (b.fits(f, mid)) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    /** The updater's state size per parameter is all that matters here (Trainer builds the real one). */
    private static IUpdater updaterFor(String optimizer) {
        switch (optimizer) {
            case "sgd":
                return new Sgd();
            case "adam":
                return new Adam();
            default:
                return new Nesterovs();
        }
    }

    static long parseBytes(String s) {
        Matcher m = Pattern.compile("(?i)(\\d+)([kmgt]?)b?").matcher(s.trim());
        if (!m.matches()) {
            return -1;
        }
        long v = Long.parseLong(m.group(1));
        switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k": return v << 10;
            case "m": return v << 20;
            case "g": return v << 30;
            case "t": return v << 40;
            default: return v;
        }
    }

    static String gb(long bytes) {
        return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
    }
}
