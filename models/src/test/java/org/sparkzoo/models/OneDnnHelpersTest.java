package org.sparkzoo.models;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkzoo.models.blocks.Graph;
import org.sparkzoo.models.blocks.Residual;
import org.sparkzoo.models.training.BatchNormHelper;
import org.sparkzoo.models.training.InputConvHelper;
import org.sparkzoo.models.training.ZooGraph;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * STACK.md's open question: do DL4J's oneDNN helpers (conv, batch norm) give the same gradients as DL4J's own
 * kernels? The helper switch is read when each layer creates its helper, so each network is built after setting
 * the property. Gradients of the same parameters on the same real images are computed with helpers on and off in
 * float and against a double-precision reference; helpers on must be as close to the reference as float rounding
 * puts DL4J's own kernels, on whichever CPU runs the test (AVX2 and AVX-512 round differently).
 */
class OneDnnHelpersTest {
    private static String saved;

    @BeforeAll
    static void remember() {
        NativeKernels.enable();
        saved = System.getProperty(NativeKernels.HELPERS_DISABLE_PROPERTY);
    }

    @AfterAll
    static void restore() {
        System.setProperty(NativeKernels.HELPERS_DISABLE_PROPERTY, saved);
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
    }

    private static ComputationGraph build(ComputationGraphConfiguration conf, boolean helpers, INDArray params) {
        return build(conf, helpers, params, false);
    }

    /** fast: the zoo's own graph (ZooGraph), whose batch-norm layers train with sparkzoo's BatchNormHelper. */
    private static ComputationGraph build(ComputationGraphConfiguration conf, boolean helpers, INDArray params, boolean fast) {
        System.setProperty(NativeKernels.HELPERS_DISABLE_PROPERTY, helpers ? "false" : "true");
        ComputationGraph net = fast ? new ZooGraph(conf) : new ComputationGraph(conf);
        net.init(params.castTo(conf.getDataType()), true);
        return net;
    }

    private static INDArray initialParams(ComputationGraphConfiguration conf) {
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        return net.params().dup();
    }

    /**
     * One forward and backward pass: the gradients of the trainable parameters, and the updates of batch norm's running
     * mean and variance, which DL4J computes from the batch statistics the helper kept from the forward pass.
     */
    private record Step(Map<String, INDArray> gradients, Map<String, INDArray> runningStats) {
    }

    private static Step step(ComputationGraph net, DataSet ds) {
        DataType type = net.params().dataType();
        net.setInputs(ds.getFeatures().castTo(type));
        net.setLabels(ds.getLabels().castTo(type));
        net.computeGradientAndScore();
        Map<String, INDArray> gradients = new LinkedHashMap<>();
        Map<String, INDArray> runningStats = new LinkedHashMap<>();
        net.gradient().gradientForVariable().forEach((k, v) ->
                (WeightDecayTest.trainable(k) ? gradients : runningStats).put(k, v.castTo(DataType.DOUBLE).dup()));
        return new Step(gradients, runningStats);
    }

    /** Largest relative difference ||a - b|| / ||b|| over parameter arrays whose reference gradient is not ~0. */
    private static double worst(Map<String, INDArray> a, Map<String, INDArray> b, StringBuilder report) {
        double worst = 0;
        for (String k : b.keySet()) {
            double norm = b.get(k).norm2Number().doubleValue();
            if (norm < 1e-6) {
                continue; // e.g. a conv bias right before batch norm: exactly 0 in theory
            }
            double rel = a.get(k).sub(b.get(k)).norm2Number().doubleValue() / norm;
            if (rel > worst) {
                worst = rel;
                report.setLength(0);
                report.append(k).append(": ").append(rel);
            }
        }
        return worst;
    }

    /**
     * Fashion-MNIST's flat black background gives equal activations in a max pool's window; which of them gets the
     * gradient is a free choice (a subgradient), and float and double kernels choose differently: 1-2% apart on
     * resnet18 at 64 px with every kernel correct. Noise far above float rounding makes the maximum unique.
     */
    private static void breakTies(DataSet ds) {
        INDArray x = ds.getFeatures();
        x.addi(Nd4j.getRandomFactory().getNewRandomInstance(7).nextDouble(x.shape()).castTo(x.dataType()).muli(0.05));
    }

    /** ||a - b|| / ||b|| over all parameter arrays together. */
    private static double global(Map<String, INDArray> a, Map<String, INDArray> b) {
        double diff = 0;
        double norm = 0;
        for (String k : b.keySet()) {
            diff += Math.pow(a.get(k).sub(b.get(k)).norm2Number().doubleValue(), 2);
            norm += Math.pow(b.get(k).norm2Number().doubleValue(), 2);
        }
        return Math.sqrt(diff / norm);
    }

    /** A conv/BN/ReLU stem, a pooled residual basic block with a projection, global pool, classifier. */
    private static ComputationGraphConfiguration convBnNet(int size) {
        Graph g = Graph.create(ModelConfig.of(FashionMnist.CLASSES, 3, size, size).withSeed(5), WeightInit.RELU);
        String x = g.convBnAct(Graph.INPUT, 8, 3, 1, 1, Activation.RELU);
        x = g.maxPool(x, 2, 2, 0);
        x = Residual.basic(g, x, 8, 16, 2, 0);
        g.classifier(g.globalAvgPool(x), Graph.OUTPUT);
        return g.build(Graph.OUTPUT);
    }

    /**
     * Float rounding is the yardstick: DL4J's own float kernels (helpers off) differ from the double-precision
     * reference by the rounding of this network on this CPU (deep nets, AVX2 vs AVX-512, summation orders). oneDNN's
     * kernels compute the same sums in another order, so they must land within a small multiple of that distance;
     * a wrong helper gradient lands at O(1). The floor (about 170 float epsilons) keeps a lucky, near-exact
     * helpers-off path from making the bound unreachable.
     */
    private static final double ROUNDING_FACTOR = 8;
    private static final double ROUNDING_FLOOR = 1e-5;

    private static void assertHelpersWithinRounding(String name, java.util.function.Supplier<ComputationGraphConfiguration> conf,
                                                    DataSet ds) {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        breakTies(ds);
        ComputationGraphConfiguration floatConf = conf.get();
        INDArray params = initialParams(floatConf);
        ComputationGraph on = build(floatConf, true, params);
        assertInstanceOf(MKLDNNBatchNormHelper.class, helper(firstBatchNorm(on)), "helpers must be on in " + name);
        Map<String, INDArray> gOn = step(on, ds).gradients();
        on.close();
        ComputationGraph fast = build(floatConf, true, params, true);
        assertInstanceOf(BatchNormHelper.class, helper(firstBatchNorm(fast)), "the zoo's graph must train batch norm with sparkzoo's helper in " + name);
        Step fastStep = step(fast, ds);
        fast.close();
        ComputationGraph off = build(floatConf, false, params);
        assertNull(helper(firstBatchNorm(off)), "helpers must be off in the comparison network");
        Step offStep = step(off, ds);
        Map<String, INDArray> gOff = offStep.gradients();
        off.close();

        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        Step reference;
        try {
            ComputationGraph ref = build(conf.get(), false, params);
            reference = step(ref, ds);
            ref.close();
        } finally {
            Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        }

        StringBuilder whereOff = new StringBuilder();
        StringBuilder whereOn = new StringBuilder();
        double offVsRef = worst(gOff, reference.gradients(), whereOff);
        double onVsRef = worst(gOn, reference.gradients(), whereOn);
        double bound = ROUNDING_FACTOR * Math.max(offVsRef, ROUNDING_FLOOR);
        System.out.printf("oneDNN helpers, %s: on-vs-double %.1e (%s), off-vs-double %.1e (%s), bound %.1e; all parameters off-vs-double %.1e%n",
                name, onVsRef, whereOn, offVsRef, whereOff, bound, global(gOff, reference.gradients()));
        // DL4J's own float path is close to the truth at all (a broken reference fails here)
        double global = global(gOff, reference.gradients());
        assertTrue(global < 1e-4, name + ": helpers off vs double precision over all parameters: " + global);
        assertTrue(onVsRef <= bound, name + ": helpers on vs double precision " + whereOn
                + " exceeds " + ROUNDING_FACTOR + "x the float rounding of helpers off (" + whereOff + ")");

        StringBuilder whereFast = new StringBuilder();
        double fastVsRef = worst(fastStep.gradients(), reference.gradients(), whereFast);
        StringBuilder statsOff = new StringBuilder();
        StringBuilder statsFast = new StringBuilder();
        double statsBound = ROUNDING_FACTOR * Math.max(worst(offStep.runningStats(), reference.runningStats(), statsOff), ROUNDING_FLOOR);
        double statsFastVsRef = worst(fastStep.runningStats(), reference.runningStats(), statsFast);
        System.out.printf("sparkzoo's batch-norm helper, %s: gradients vs double %.1e (%s); running-statistics updates vs double %.1e (%s), bound %.1e%n",
                name, fastVsRef, whereFast, statsFastVsRef, statsFast, statsBound);
        assertTrue(fastVsRef <= bound, name + ": sparkzoo's batch-norm helper vs double precision " + whereFast
                + " exceeds " + ROUNDING_FACTOR + "x the float rounding of helpers off (" + whereOff + ")");
        assertTrue(statsFastVsRef <= statsBound, name + ": running-statistics updates with sparkzoo's helper vs double precision "
                + statsFast + " exceed " + ROUNDING_FACTOR + "x the float rounding of helpers off (" + statsOff + ")");
    }

    @Test
    void convAndBatchNormBlocksGiveDoublePrecisionGradientsWithinFloatRounding() throws IOException {
        DataSet ds = FashionMnist.batch(8, 3, 16);
        assertHelpersWithinRounding("conv/BN block", () -> convBnNet(16), ds);
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        ComputationGraph on = build(convBnNet(16), true, initialParams(convBnNet(16)));
        assertInstanceOf(MKLDNNConvHelper.class, ((org.deeplearning4j.nn.layers.convolution.ConvolutionLayer) on.getLayer(0)).getHelper());
        on.close();
        ComputationGraph fast = build(convBnNet(16), true, initialParams(convBnNet(16)), true);
        assertInstanceOf(InputConvHelper.class, ((org.deeplearning4j.nn.layers.convolution.ConvolutionLayer) fast.getLayer(0)).getHelper(),
                "the stem reads the images: its weight gradient is sparkzoo's, checked above with the rest");
        fast.close();
    }

    @Test
    void lenet5sInputConvolutionGetsDoublePrecisionWeightGradientsWithoutTheImagesGradient() throws IOException {
        // one input channel, a 5x5 kernel padded by 2 and a bias: InputConvHelper's convolution of the images by the
        // output gradient, against DL4J's float kernels and a double-precision reference
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        ModelSpec spec = ModelRegistry.get("lenet5");
        java.util.function.Supplier<ComputationGraphConfiguration> conf = () -> spec.configuration(ModelConfig.of(FashionMnist.CLASSES, 1, 28, 28));
        DataSet ds = FashionMnist.batch(16, 1, 28);
        breakTies(ds);
        INDArray params = initialParams(conf.get());
        ComputationGraph fast = build(conf.get(), true, params, true);
        Layer first = fast.getLayer(0);
        assertInstanceOf(InputConvHelper.class, ((org.deeplearning4j.nn.layers.convolution.ConvolutionLayer) first).getHelper());
        Map<String, INDArray> gFast = step(fast, ds).gradients();
        assertNull(fast.getVertex(fast.getConfiguration().getNetworkInputs().get(0)).getEpsilon(),
                "no gradient with respect to the images is computed");
        fast.close();
        ComputationGraph off = build(conf.get(), false, params);
        Map<String, INDArray> gOff = step(off, ds).gradients();
        off.close();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        Map<String, INDArray> reference;
        try {
            ComputationGraph ref = build(conf.get(), false, params);
            reference = step(ref, ds).gradients();
            ref.close();
        } finally {
            Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        }
        StringBuilder whereOff = new StringBuilder(), whereFast = new StringBuilder();
        double bound = ROUNDING_FACTOR * Math.max(worst(gOff, reference, whereOff), ROUNDING_FLOOR);
        double fastVsRef = worst(gFast, reference, whereFast);
        String name = first.conf().getLayer().getLayerName();
        double firstVsRef = Math.max(gFast.get(name + "_W").sub(reference.get(name + "_W")).norm2Number().doubleValue()
                / reference.get(name + "_W").norm2Number().doubleValue(),
                gFast.get(name + "_b").sub(reference.get(name + "_b")).norm2Number().doubleValue()
                / reference.get(name + "_b").norm2Number().doubleValue());
        System.out.printf("sparkzoo's input convolution, lenet5: its W and b vs double %.1e; all gradients %.1e (%s), bound %.1e (%s)%n",
                firstVsRef, fastVsRef, whereFast, bound, whereOff);
        assertTrue(firstVsRef <= bound, "lenet5's first convolution: weight or bias gradient off by " + firstVsRef);
        assertTrue(fastVsRef <= bound, "lenet5: " + whereFast + " exceeds the bound " + bound);
    }

    /** DL4J's oneDNN convolution helper, counting its forward convolutions. */
    private static final class CountingConvHelper extends MKLDNNConvHelper {
        int forwards;

        CountingConvHelper() {
            super(DataType.FLOAT);
        }

        @Override
        public INDArray preOutput(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides, int[] pad,
                                  org.deeplearning4j.nn.conf.layers.ConvolutionLayer.AlgoMode mode,
                                  org.deeplearning4j.nn.conf.layers.ConvolutionLayer.FwdAlgo fwdAlgo,
                                  org.deeplearning4j.nn.conf.ConvolutionMode convolutionMode, int[] dilation,
                                  org.deeplearning4j.nn.conf.CNN2DFormat format,
                                  org.deeplearning4j.nn.workspace.LayerWorkspaceMgr workspaceMgr) {
            forwards++;
            return super.preOutput(input, weights, bias, kernel, strides, pad, mode, fwdAlgo, convolutionMode, dilation,
                    format, workspaceMgr);
        }
    }

    @Test
    void zooGraphRunsEachConvolutionForwardOncePerTrainingStep() throws IOException {
        // DL4J's ConvolutionLayer recomputes its forward output in the backward pass unless its cache mode keeps it
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        ComputationGraphConfiguration conf = convBnNet(16);
        DataSet ds = FashionMnist.batch(4, 3, 16);
        for (boolean zoo : new boolean[]{true, false}) {
            // DL4J's helper in every convolution, so that the counting one below can take its place
            System.setProperty(org.sparkzoo.models.training.OneDnnConvHelper.CONV_PROPERTY, "libnd4j");
            ComputationGraph net;
            try {
                net = build(conf.clone(), true, initialParams(conf), zoo);
            } finally {
                System.clearProperty(org.sparkzoo.models.training.OneDnnConvHelper.CONV_PROPERTY);
            }
            java.util.List<CountingConvHelper> counters = new java.util.ArrayList<>();
            for (Layer layer : net.getLayers()) {
                CountingConvHelper counter = new CountingConvHelper();
                if (org.deeplearning4j.nn.layers.convolution.ConvolutionHelpers.replaceOneDnnHelper(layer, () -> counter)) {
                    counters.add(counter);
                }
            }
            assertTrue(counters.size() >= 2, "the residual block's convolutions carry DL4J's oneDNN helper");
            step(net, ds);
            int perConvolution = zoo ? 1 : 2;   // plain DL4J (cache mode NONE) as the control: the test sees a rerun
            for (CountingConvHelper counter : counters) {
                assertEquals(perConvolution, counter.forwards, (zoo ? "ZooGraph" : "ComputationGraph") + ": forward convolutions per step");
            }
            net.close();
        }
    }

    @Test
    void resNet18GradientsWithHelpersAreWithinFloatRoundingOfDoublePrecision() throws IOException {
        ModelSpec spec = ModelRegistry.get("resnet18");
        DataSet ds = FashionMnist.batch(8, 3, 64);
        assertHelpersWithinRounding("resnet18 64px", () -> spec.configuration(ModelConfig.of(FashionMnist.CLASSES, 3, 64, 64)),
                ds);
    }

    private static Layer firstBatchNorm(ComputationGraph net) {
        for (Layer l : net.getLayers()) {
            if (l instanceof org.deeplearning4j.nn.layers.normalization.BatchNormalization) {
                return l;
            }
        }
        throw new AssertionError("no batch-norm layer");
    }

    private static Object helper(Layer layer) {
        return ((org.deeplearning4j.nn.layers.normalization.BatchNormalization) layer).getHelper();
    }
}
