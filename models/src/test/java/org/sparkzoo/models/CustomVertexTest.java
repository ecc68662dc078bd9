package org.sparkzoo.models;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.sparkzoo.models.blocks.Graph;
import org.sparkzoo.models.blocks.Residual;
import org.sparkzoo.models.blocks.SqueezeExcite;
import org.sparkzoo.models.vertices.DropPathVertex;
import org.sparkzoo.models.vertices.FractalJoinVertex;
import org.sparkzoo.models.zoo.FractalNet;
import org.sparkzoo.models.zoo.ResNet;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The project's own graph pieces, checked in double precision against finite differences (DL4J's
 * GradientCheckUtil): the SE broadcast product, dropout, drop-path / stochastic depth, FractalNet's join, and
 * auxiliary heads with a weighted loss. Drop masks are a function of (seed, iteration), so one check sees one fixed
 * mask; the tests pick iterations where something is really dropped.
 */
class CustomVertexTest {
    private static final int CLASSES = 3;
    private static DataType savedType;
    private static String savedHelpers;

    @BeforeAll
    static void doublePrecision() {
        savedType = Nd4j.defaultFloatingPointType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        // oneDNN helpers are float-only; without them DL4J does not try (and fail) to use them on every pass
        savedHelpers = System.getProperty(NativeKernels.HELPERS_DISABLE_PROPERTY);
        System.setProperty(NativeKernels.HELPERS_DISABLE_PROPERTY, "true");
    }

    @AfterAll
    static void restore() {
        Nd4j.setDefaultDataTypes(savedType, savedType);
        if (savedHelpers == null) {
            System.clearProperty(NativeKernels.HELPERS_DISABLE_PROPERTY);
        } else {
            System.setProperty(NativeKernels.HELPERS_DISABLE_PROPERTY, savedHelpers);
        }
    }

    private static ModelConfig tiny(int channels, int size) {
        return ModelConfig.of(CLASSES, channels, size, size).withUpdater(new NoOp()).withSeed(7);
    }

    private static ComputationGraph init(ComputationGraphConfiguration conf) {
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        assertEquals(DataType.DOUBLE, net.params().dataType());
        return net;
    }

    private static INDArray labels(int n) {
        INDArray y = Nd4j.zeros(DataType.DOUBLE, n, CLASSES);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, i % CLASSES, 1.0);
        }
        return y;
    }

    /** DL4J's gradient check over every parameter (the networks checked this way have no batch norm, see below). */
    private static boolean gradientsMatch(ComputationGraph net, INDArray input, INDArray... labels) {
        return GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(net)
                .inputs(new INDArray[]{input}).labels(labels)
                .epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-9).exitOnFirstError(false)
                .print(GradientCheckUtil.PrintMode.FAILURES_ONLY));
    }

    /**
     * Central finite differences on up to {@code perArray} entries of every parameter array, addressed by name. For
     * networks with batch norm: DL4J M2.1's GradientCheckUtil labels (and excludes) parameters by the order of
     * paramTable(), which differs from the order of the flattened params() in branching graphs, so its
     * excludeParams cannot skip BN's running mean/variance (pseudo-gradients that fail any check); its
     * subset/maxPerParam options are ignored for graphs.
     */
    private static void assertFiniteDifferences(ComputationGraph net, INDArray input, INDArray labels, int perArray) {
        MultiDataSet mds = new MultiDataSet(new INDArray[]{input}, new INDArray[]{labels});
        net.setInputs(input);
        net.setLabels(labels);
        net.computeGradientAndScore();
        // DL4J's raw gradients are sums over the minibatch (its updater divides by the batch size); the score is a mean
        Map<String, INDArray> analytic = new java.util.LinkedHashMap<>();
        net.gradient().gradientForVariable().forEach((k, v) -> analytic.put(k, v.div(input.size(0))));
        List<String> failures = new ArrayList<>();
        int checked = 0;
        double eps = 1e-6;
        for (String name : net.paramTable().keySet()) {
            if (name.endsWith("_mean") || name.endsWith("_var") || name.endsWith("_log10stdev")) {
                continue;
            }
            INDArray p = net.getParam(name); // a view of the network's parameters
            long n = p.length();
            long step = Math.max(1, n / perArray);
            for (long i = 0; i < n; i += step) {
                double original = p.getDouble(i);
                p.putScalar(i, original + eps);
                double plus = net.score(mds, true);
                p.putScalar(i, original - eps);
                double minus = net.score(mds, true);
                p.putScalar(i, original);
                double numerical = (plus - minus) / (2 * eps);
                double backprop = analytic.get(name).getDouble(i);
                double absError = Math.abs(backprop - numerical);
                if (absError > 1e-8 && absError / (Math.abs(backprop) + Math.abs(numerical)) > 1e-5) {
                    failures.add(name + "[" + i + "]: backprop " + backprop + " numerical " + numerical);
                }
                checked++;
            }
        }
        assertTrue(checked > 50, "checked only " + checked);
        assertTrue(failures.isEmpty(), failures.size() + " of " + checked + " entries differ: " + failures);
    }

    /** A copy of the network rebuilt from its JSON configuration with the same parameters. */
    private static ComputationGraph viaJson(ComputationGraph net) {
        ComputationGraph copy = new ComputationGraph(ComputationGraphConfiguration.fromJson(net.getConfiguration().toJson()));
        copy.init(net.params().dup(), true);
        copy.getConfiguration().setIterationCount(net.getConfiguration().getIterationCount());
        return copy;
    }

    @Test
    void squeezeExcitationBroadcastProduct() {
        Graph g = Graph.create(tiny(2, 6), WeightInit.RELU);
        String x = g.conv(Graph.INPUT, 8, 3, 1, 1, Activation.TANH);
        x = SqueezeExcite.gate(g, x, 8, 2);
        g.classifier(g.globalAvgPool(x), Graph.OUTPUT);
        ComputationGraph net = init(g.build(Graph.OUTPUT));
        INDArray input = Nd4j.rand(DataType.DOUBLE, 4, 2, 6, 6).subi(0.5);
        assertTrue(gradientsMatch(net, input, labels(4)));

        // the gate really scales each channel of each example by its own factor
        Map<String, INDArray> acts = net.feedForward(input, false);
        String mul = findVertex(net, "mul");
        INDArray product = acts.get(mul);
        INDArray features = acts.get(net.getConfiguration().getVertexInputs().get(mul).get(0));
        INDArray gates = acts.get(net.getConfiguration().getVertexInputs().get(mul).get(1));
        assertEquals(features.getDouble(1, 3, 2, 4) * gates.getDouble(1, 3, 0, 0), product.getDouble(1, 3, 2, 4), 1e-12);
        assertEquals(net.output(input)[0], viaJson(net).output(input)[0]);
    }

    @Test
    void stochasticDepthOnResidualBranch() {
        double p = 0.5;
        Graph g = Graph.create(tiny(2, 5), WeightInit.RELU);
        String x = g.conv(Graph.INPUT, 4, 3, 1, 1, Activation.TANH);
        String branch = g.dropPath(g.conv(g.conv(x, 4, 3, 1, 1, Activation.TANH), 4, 3, 1, 1, Activation.IDENTITY), p);
        x = g.activation(g.add(x, branch), Activation.TANH);
        g.classifier(g.globalAvgPool(x), Graph.OUTPUT);
        ComputationGraph net = init(g.build(Graph.OUTPUT));
        String drop = findVertex(net, "droppath");
        INDArray input = Nd4j.rand(DataType.DOUBLE, 6, 2, 5, 5).subi(0.5);

        // each example's branch is either dropped (0) or scaled by 1/(1-p); over many steps ~(1-p) survive
        int kept = 0;
        int total = 0;
        int mixedIteration = -1;
        for (int it = 0; it < 100; it++) {
            net.getConfiguration().setIterationCount(it);
            Map<String, INDArray> acts = net.feedForward(input, true);
            INDArray in = acts.get(net.getConfiguration().getVertexInputs().get(drop).get(0));
            INDArray out = acts.get(drop);
            int keptHere = 0;
            for (int i = 0; i < input.size(0); i++) {
                INDArray o = out.slice(i);
                if (o.amaxNumber().doubleValue() == 0) {
                    continue;
                }
                assertTrue(o.equalsWithEps(in.slice(i).div(1 - p), 1e-12), "kept example not scaled by 1/(1-p)");
                keptHere++;
            }
            kept += keptHere;
            total += (int) input.size(0);
            if (keptHere > 0 && keptHere < input.size(0) && mixedIteration < 0) {
                mixedIteration = it;
            }
        }
        assertEquals(1 - p, (double) kept / total, 0.1, "survival rate");
        // inference: identity
        Map<String, INDArray> test = net.feedForward(input, false);
        assertEquals(test.get(net.getConfiguration().getVertexInputs().get(drop).get(0)), test.get(drop));

        assertTrue(mixedIteration >= 0);
        net.getConfiguration().setIterationCount(mixedIteration);
        assertTrue(gradientsMatch(net, input, labels(6)), "gradient with a mask that drops some examples");
        // and through the real residual unit (with batch norm) that ResNet uses
        Graph rg = Graph.create(tiny(2, 5), WeightInit.RELU);
        String rx = rg.convBnAct(Graph.INPUT, 4, 3, 1, 1, Activation.TANH);
        rg.classifier(rg.globalAvgPool(Residual.basic(rg, rx, 4, 4, 1, p)), Graph.OUTPUT);
        ComputationGraph residual = init(rg.build(Graph.OUTPUT));
        residual.getConfiguration().setIterationCount(mixedIteration);
        assertFiniteDifferences(residual, input, labels(6), 12);
        ComputationGraph copy = viaJson(net);
        assertEquals(net.feedForward(input, true).get(drop), copy.feedForward(input, true).get(drop), "same mask after JSON");
    }

    @Test
    void dropoutOnFeatureMapsAndFeatures() {
        Graph g = Graph.create(tiny(2, 5), WeightInit.RELU);
        String maps = g.dropout(g.conv(Graph.INPUT, 4, 3, 1, 1, Activation.TANH), 0.5);
        String features = g.dropout(g.dense(g.globalAvgPool(g.conv(maps, 4, 3, 1, 1, Activation.TANH)), 6, Activation.TANH), 0.3);
        g.classifier(features, Graph.OUTPUT);
        ComputationGraph net = init(g.build(Graph.OUTPUT));
        INDArray input = Nd4j.rand(DataType.DOUBLE, 4, 2, 5, 5).subi(0.5);
        net.getConfiguration().setIterationCount(2);
        for (String drop : List.of(maps, features)) {
            Map<String, INDArray> acts = net.feedForward(input, true);
            double zeros = acts.get(drop).eq(0).castTo(DataType.DOUBLE).meanNumber().doubleValue();
            assertTrue(zeros > 0 && zeros < 1, drop + " dropped " + zeros + " of the units: the check would not see a mask");
        }
        assertTrue(gradientsMatch(net, input, labels(4)), "gradient through two dropout masks");
        ComputationGraph copy = viaJson(net);
        assertEquals(net.feedForward(input, true).get(features), copy.feedForward(input, true).get(features), "same mask after JSON");
    }

    @Test
    void resNetStochasticDepthDecaysLinearly() {
        ComputationGraphConfiguration conf = ResNet.build(ModelConfig.of(10, 3, 32, 32).withStochasticDepth(0.2),
                new ResNet.Arch(ResNet.Block.BASIC, new int[]{2, 2, 2, 2}, 64, 0));
        List<Double> rates = new ArrayList<>();
        for (Map.Entry<String, GraphVertex> e : conf.getVertices().entrySet()) {
            if (e.getValue() instanceof DropPathVertex) {
                rates.add(((DropPathVertex) e.getValue()).getDropProbability());
            }
        }
        rates.sort(Double::compare);
        assertEquals(8, rates.size());
        for (int l = 1; l <= 8; l++) {
            assertEquals(0.2 * l / 8, rates.get(l - 1), 1e-12);
        }
    }

    @Test
    void fractalJoinLocalAndGlobalDropPath() {
        ComputationGraphConfiguration conf = FractalNet.build(tiny(1, 8).withDropPath(0.5), new FractalNet.Arch(3, new int[]{3}));
        ComputationGraph net = init(conf);
        INDArray input = Nd4j.rand(DataType.DOUBLE, 3, 1, 8, 8).subi(0.5);
        List<String> joins = new ArrayList<>();
        for (Map.Entry<String, GraphVertex> e : conf.getVertices().entrySet()) {
            if (e.getValue() instanceof FractalJoinVertex) {
                joins.add(e.getKey());
            }
        }
        // f3 = join(f2(f2(z)), conv z), f2 = join(conv conv z, conv z): the first f2's join (2 inputs), the last (3 inputs)
        assertEquals(2, joins.size(), "joins of a 3-column fractal");

        // inference: plain mean of the inputs
        Map<String, INDArray> test = net.feedForward(input, false);
        for (String j : joins) {
            List<String> ins = conf.getVertexInputs().get(j);
            INDArray mean = test.get(ins.get(0)).dup();
            for (int i = 1; i < ins.size(); i++) {
                mean.addi(test.get(ins.get(i)));
            }
            assertTrue(mean.divi(ins.size()).equalsWithEps(test.get(j), 1e-12));
        }
        // training: over several steps some joins drop inputs, and gradients match in each step
        int dropping = 0;
        for (int it = 0; it < 3; it++) {
            net.getConfiguration().setIterationCount(it);
            Map<String, INDArray> train = net.feedForward(input, true);
            for (String j : joins) {
                List<String> ins = conf.getVertexInputs().get(j);
                INDArray mean = train.get(ins.get(0)).dup();
                for (int i = 1; i < ins.size(); i++) {
                    mean.addi(train.get(ins.get(i)));
                }
                if (!mean.divi(ins.size()).equalsWithEps(train.get(j), 1e-9)) {
                    dropping++;
                }
            }
            assertFiniteDifferences(net, input, labels(3), 4);
        }
        assertTrue(dropping > 0, "drop-path never dropped an input in 3 steps");
    }

    @Test
    void auxiliaryHeadLossIsWeightedInsideTheLayer() {
        double weight = 0.3;
        Graph g = Graph.create(tiny(2, 6), WeightInit.RELU);
        String x = g.conv(Graph.INPUT, 4, 3, 1, 1, Activation.TANH);
        String aux = g.dense(g.globalAvgPool(x), 5, Activation.TANH);
        g.classifier(g.globalAvgPool(g.conv(x, 6, 3, 1, 1, Activation.TANH)), Graph.OUTPUT);
        g.auxClassifier(aux, "aux1", weight);
        ComputationGraph net = init(g.build(Graph.OUTPUT, "aux1"));
        INDArray input = Nd4j.rand(DataType.DOUBLE, 4, 2, 6, 6).subi(0.5);
        INDArray y = labels(4);
        assertTrue(gradientsMatch(net, input, y, y));

        // score = mean CE(main) + 0.3 mean CE(aux), computed by hand from the outputs
        INDArray[] out = net.output(false, input);
        double main = -Transforms.log(out[0]).mul(y).sum(1).meanNumber().doubleValue();
        double auxCe = -Transforms.log(out[1]).mul(y).sum(1).meanNumber().doubleValue();
        double score = net.score(new MultiDataSet(new INDArray[]{input}, new INDArray[]{y, y}), false);
        assertEquals(main + weight * auxCe, score, 1e-9);
        assertEquals(score, viaJson(net).score(new MultiDataSet(new INDArray[]{input}, new INDArray[]{y, y}), false), 1e-12);
    }

    private static String findVertex(ComputationGraph net, String base) {
        return net.getConfiguration().getVertices().keySet().stream().filter(n -> n.endsWith(base)).findFirst()
                .orElseThrow(() -> new AssertionError("no vertex named *" + base));
    }
}
