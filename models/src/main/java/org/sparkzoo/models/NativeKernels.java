package org.sparkzoo.models;

import org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOps;
import org.nd4j.nativeblas.NativeOpsHolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;

/**
 * Switches DL4J's oneDNN helpers on and reports which native kernels a JVM really runs.
 *
 * <p>DL4J 1.0.0-M2.1 never calls oneDNN unless (1) the system property {@value #HELPERS_DISABLE_PROPERTY} is
 * {@code false} (it defaults to {@code true}) and (2) its reflective check finds
 * {@code org.nd4j.nativeblas.Nd4jCpu$Environment} (see the shim of that name in this module). Measured cost of
 * leaving them off: 3-4x slower training. Every job calls {@link #enable()} on the driver and in each executor
 * before a network is built, and logs {@link Status#line()}.
 *
 * <p>It also runs OpenBLAS, which libnd4j calls for the dense layers' matrix products, on one thread unless
 * {@value #BLAS_THREADS_ENV} says otherwise. ND4J gives OpenBLAS as many threads as OpenMP
 * ({@code OMP_NUM_THREADS}, overriding {@value #BLAS_THREADS_ENV}), and OpenBLAS's worker then spins in
 * {@code sched_yield} for about 0.1 s after every product (its {@code THREAD_TIMEOUT}): on a 2-core machine that is a
 * third busy thread beside the main one and OpenMP's, and a lenet5 step took 28 ms instead of 7 one time in five or
 * more. The zoo's products are its classifiers' (convolutions are oneDNN's): one thread made lenet5's mean step
 * 13-40% faster and mobilenet_v2's 1-13%, and cost the VGG family, whose 4096-wide dense layers are real work, 6-12%
 * (vgg16 on 2 threads; BENCHMARKS.md, "Fifteenth and sixteenth sessions"), where {@value #BLAS_THREADS_ENV} gives
 * the threads back.
 */
public final class NativeKernels {
    public static final String HELPERS_DISABLE_PROPERTY = "org.eclipse.deeplearning4j.helpers.disable";
    /** OpenBLAS's own thread-count variable, which {@link #enable()} honours (ND4J ignores it). */
    public static final String BLAS_THREADS_ENV = "OPENBLAS_NUM_THREADS";
    private static final Logger log = LoggerFactory.getLogger(NativeKernels.class);
    private static volatile Status status;

    private NativeKernels() {
    }

    /**
     * Turns the oneDNN helpers on unless the user explicitly set {@value #HELPERS_DISABLE_PROPERTY}=true, logs the
     * native-kernels line once per JVM and returns what is in effect. Idempotent and cheap after the first call.
     */
    public static Status enable() {
        Status s = status;
        if (s != null) {
            return s;
        }
        synchronized (NativeKernels.class) {
            if (status == null) {
                if (System.getProperty(HELPERS_DISABLE_PROPERTY) == null) {
                    System.setProperty(HELPERS_DISABLE_PROPERTY, "false");
                }
                Nd4j.create(1); // loads the backend, whose constructor sets OpenBLAS's threads to OpenMP's
                Nd4j.factory().blas().setMaxThreads(blasThreads(System.getenv(BLAS_THREADS_ENV)));
                status = probe();
                log.info(status.line());
            }
            return status;
        }
    }

    /** OpenBLAS's thread count: {@code value} of {@value #BLAS_THREADS_ENV} if a positive number, else 1. */
    static int blasThreads(String value) {
        try {
            return value == null ? 1 : Math.max(1, Integer.parseInt(value.trim()));
        } catch (NumberFormatException e) {
            return 1; // OpenBLAS itself ignores a value it cannot read
        }
    }

    /** What the running JVM has, read from ND4J itself rather than from configuration. */
    public static Status probe() {
        Nd4j.create(1); // loads the backend
        NativeOps ops = NativeOpsHolder.getInstance().getDeviceNativeOps();
        String buildInfo = ops.buildInfo();
        boolean onednnBuild = buildInfo.contains("HAVE_ONEDNN") || buildInfo.toLowerCase(Locale.ROOT).contains("onednn");
        String backend = Nd4j.getExecutioner().getEnvironmentInformation().getProperty("backend", "?");
        boolean helpersProperty = !Boolean.parseBoolean(System.getProperty(HELPERS_DISABLE_PROPERTY, "true"));
        boolean helpersOn = helpersProperty && BaseMKLDNNHelper.mklDnnEnabled();
        return new Status(backend, onednnBuild, level(ops.binaryLevel()), level(ops.optimalLevel()),
                ops.ompGetMaxThreads(), Nd4j.factory().blas().getMaxThreads(), helpersOn);
    }

    private static String level(int code) {
        switch (code) {
            case 3: return "AVX512";
            case 2: return "AVX2";
            case 1: return "generic";
            default: return "level " + code;
        }
    }

    /** The native build and switches in effect in one JVM. */
    public static final class Status implements java.io.Serializable {
        public final String backend;
        public final boolean onednnBuild;
        public final String binaryLevel;
        public final String cpuLevel;
        public final int threads;
        public final int blasThreads;
        public final boolean helpersOn;

        Status(String backend, boolean onednnBuild, String binaryLevel, String cpuLevel, int threads, int blasThreads,
               boolean helpersOn) {
            this.backend = backend;
            this.onednnBuild = onednnBuild;
            this.binaryLevel = binaryLevel;
            this.cpuLevel = cpuLevel;
            this.threads = threads;
            this.blasThreads = blasThreads;
            this.helpersOn = helpersOn;
        }

        /** e.g. {@code native kernels: nd4j-native onednn, AVX512, 2 threads (BLAS 1), oneDNN helpers on}. */
        public String line() {
            return String.format(Locale.ROOT, "native kernels: nd4j-native %s, %s%s, %d threads (BLAS %d), oneDNN helpers %s",
                    onednnBuild ? "onednn" : "generic (no oneDNN)", binaryLevel,
                    binaryLevel.equals(cpuLevel) ? "" : " build on " + cpuLevel + " CPU", threads, blasThreads,
                    helpersOn ? "on" : "OFF (set -D" + HELPERS_DISABLE_PROPERTY + "=false and use an -onednn build)");
        }
    }
}
