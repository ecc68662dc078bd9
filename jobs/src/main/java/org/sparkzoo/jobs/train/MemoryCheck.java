package org.sparkzoo.jobs.train;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkzoo.jobs.JobMain.UserError;
import org.sparkzoo.jobs.SparkSessions;
import org.sparkzoo.models.ModelSpec;

import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fails before the first round, with the numbers and the setting to change, when the configured memory cannot
 * hold a worker's network and minibatch, instead of an off-heap crash mid-epoch.
 *
 * <p>A worker needs, off the Java heap (ND4J): parameters, gradients and the averaged copy (3 x params), the
 * updater state, and the activations of one minibatch (batch x the sum of every layer's output size), all in
 * float32. That is a lower bound: DL4J's workspaces add to it, so the limit is checked against the bound, and
 * the documented setting (README, Memory) leaves headroom on top.
 */
final class MemoryCheck {
    private static final Pattern MAXBYTES = Pattern.compile("-Dorg\\.bytedeco\\.javacpp\\.maxbytes=(\\S+)");

    private MemoryCheck() {
    }

    static long workerBytes(ComputationGraph net, int imageSize, int channels, int batch) {
        long params = net.numParams();
        long updater = net.getUpdater() == null || net.getUpdater().getStateViewArray() == null ? 0
                : net.getUpdater().getStateViewArray().length();
        long activations = 0;
        Map<String, InputType> types = net.getConfiguration()
                .getLayerActivationTypes(InputType.convolutional(imageSize, imageSize, channels));
        for (InputType t : types.values()) {
            activations += t.arrayElementsPerExample();
        }
        return 4L * (3 * params + updater + (long) batch * activations);
    }

    static void check(SparkSession spark, ModelSpec spec, ComputationGraph net, int imageSize, int channels, int batch, int workers) {
        check(spark.sparkContext().getConf(), SparkSessions.isLocal(spark), Pointer.maxBytes(), spec.name,
                workerBytes(net, imageSize, channels, batch), net.numParams(), imageSize, batch, workers);
    }

    /**
     * @param localLimit this JVM's off-heap limit, which bounds every worker in local mode
     * @param perWorker  {@link #workerBytes} of the network
     */
    static void check(SparkConf conf, boolean local, long localLimit, String model, long perWorker, long params,
                      int imageSize, int batch, int workers) {
        long available;
        long need;
        String setting;
        if (local) {
            // every worker runs inside this JVM, beside the driver's own copy of the network
            available = localLimit;
            need = perWorker * workers + 4L * 2 * params;
            setting = "the driver's off-heap limit -Dorg.bytedeco.javacpp.maxbytes (spark.driver.extraJavaOptions) "
                    + "and spark.driver.memory";
        } else {
            int coresPerExecutor = conf.getInt("spark.executor.cores", 1);
            need = perWorker * Math.max(1, Math.min(coresPerExecutor, workers));
            long executorHeap = conf.getSizeAsBytes("spark.executor.memory", "1g");
            Matcher m = MAXBYTES.matcher(conf.get("spark.executor.extraJavaOptions", ""));
            available = m.find() ? parseBytes(m.group(1)) : executorHeap; // javacpp's default limit is the heap size
            setting = "-Dorg.bytedeco.javacpp.maxbytes in spark.executor.extraJavaOptions (and spark.executor.memoryOverhead on YARN/Kubernetes)";
        }
        if (available > 0 && need > available) {
            throw new UserError(String.format(Locale.ROOT,
                    "%s at %dx%d with --batch-size-per-worker %d needs at least %s of native memory per executor (%s per worker), "
                            + "but only %s is allowed: raise %s, or lower --batch-size-per-worker / --image-size",
                    model, imageSize, imageSize, batch, gb(need), gb(perWorker), gb(available), setting));
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
