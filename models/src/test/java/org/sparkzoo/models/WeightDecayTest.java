package org.sparkzoo.models;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.learning.regularization.WeightDecay;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.sparkzoo.models.blocks.Graph;
import org.sparkzoo.models.blocks.Residual;
import org.sparkzoo.models.training.Losses;
import org.sparkzoo.models.training.SgdMomentum;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The two kinds of weight decay against the formulas they stand for, on a small zoo-built network (conv with bias,
 * conv-BN-ReLU, a ResNet basic block, classifier) in double precision. torchvision's ResNet recipe is
 * {@code torch.optim.SGD(lr=0.1, momentum=0.9, weight_decay=1e-4)} on every parameter: v = mu v + (g + c w); w -= lr v.
 * g is the network's own gradient of the data loss (DL4J's raw gradient is a sum over the minibatch; with a batch of
 * 4 the division to the mean is exact).
 */
class WeightDecayTest {
    private static final double LR = 0.1;
    private static final double MU = 0.9;
    private static final double C = 1e-4;
    private static final int BATCH = 4;
    /**
     * Each step is a handful of double operations on values of size |w| < 4 (ulp 4.4e-16) plus a gradient whose
     * multi-threaded sums may round differently between two evaluations; 1e-12 leaves a 1000x margin for that,
     * while the effects tested (c w in one step: lr c |w| ~ 1e-5) are 10^7 times larger.
     */
    private static final double ROUNDING = 1e-12;
    private static DataType savedType;
    private static String savedHelpers;

    @BeforeAll
    static void doublePrecision() {
        savedType = Nd4j.defaultFloatingPointType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
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

    private static ComputationGraph tinyZooNet(IUpdater updater, double c, WeightDecayKind kind) {
        ModelConfig config = ModelConfig.of(3, 2, 6, 6).withSeed(11).withUpdater(updater).withWeightDecay(c, kind);
        Graph g = Graph.create(config, WeightInit.RELU);
        String x = g.conv(Graph.INPUT, 4, 3, 1, 1, Activation.TANH);
        x = g.convBnAct(x, 4, 3, 1, 1, Activation.RELU);
        x = Residual.basic(g, x, 4, 4, 1, 0);
        g.classifier(g.globalAvgPool(x), Graph.OUTPUT);
        ComputationGraph net = new ComputationGraph(g.build(Graph.OUTPUT));
        net.init();
        assertEquals(DataType.DOUBLE, net.params().dataType());
        return net;
    }

    private static DataSet data() {
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.rand(DataType.DOUBLE, BATCH, 2, 6, 6).subi(0.5).muli(2);
        INDArray y = Nd4j.zeros(DataType.DOUBLE, BATCH, 3);
        for (int i = 0; i < BATCH; i++) {
            y.putScalar(i, (i * 2) % 3, 1.0);
        }
        return new DataSet(x, y);
    }

    /** Not a batch-norm running statistic; {@code param} is a network-level ("bn_mean") or layer-level ("mean") key. */
    static boolean trainable(String param) {
        for (String stat : List.of("mean", "var", "log10stdev")) {
            if (param.equals(stat) || param.endsWith("_" + stat)) {
                return false;
            }
        }
        return true;
    }

    /** Copies of every trainable parameter array, by name. */
    static Map<String, INDArray> params(ComputationGraph net) {
        Map<String, INDArray> m = new LinkedHashMap<>();
        net.paramTable().forEach((k, v) -> {
            if (trainable(k)) {
                m.put(k, v.dup());
            }
        });
        return m;
    }

    /** The data loss's gradient (mean over the minibatch) at the network's current parameters, no regularization. */
    private static Map<String, INDArray> dataGradient(ComputationGraph net, DataSet ds) {
        net.setInputs(ds.getFeatures());
        net.setLabels(ds.getLabels());
        net.computeGradientAndScore();
        Map<String, INDArray> m = new LinkedHashMap<>();
        net.gradient().gradientForVariable().forEach((k, v) -> {
            if (trainable(k)) {
                m.put(k, v.div(BATCH));
            }
        });
        return m;
    }

    private static double maxDifference(Map<String, INDArray> expected, Map<String, INDArray> actual) {
        double max = 0;
        for (String k : expected.keySet()) {
            max = Math.max(max, Transforms.abs(expected.get(k).sub(actual.get(k))).maxNumber().doubleValue());
        }
        return max;
    }

    /** Two fit steps of the zoo network; returns the parameters that {@code kind}'s formula predicts minus those it has. */
    private static double twoStepsAgainstFormula(IUpdater updater, WeightDecayKind kind, boolean nesterovFormula) {
        ComputationGraph net = tinyZooNet(updater, C, kind);
        DataSet ds = data();
        Map<String, INDArray> w = params(net);
        Map<String, INDArray> v = new LinkedHashMap<>();
        w.forEach((k, a) -> v.put(k, a.like().assign(0)));
        for (int step = 0; step < 2; step++) {
            Map<String, INDArray> g = dataGradient(net, ds);
            for (String k : w.keySet()) {
                INDArray wk = w.get(k);
                INDArray gk = kind == WeightDecayKind.L2 ? g.get(k).add(wk.mul(C)) : g.get(k);
                INDArray update;
                if (nesterovFormula) {
                    // DL4J's Nesterovs: v' = mu v - lr g; w += -mu v + (1 + mu) v'
                    INDArray vPrev = v.get(k).dup();
                    v.get(k).muli(MU).subi(gk.mul(LR));
                    update = vPrev.mul(MU).sub(v.get(k).mul(1 + MU));
                } else {
                    v.get(k).muli(MU).addi(gk);
                    update = v.get(k).mul(LR);
                }
                if (kind == WeightDecayKind.DECOUPLED) {
                    update.addi(wk.mul(LR * C));
                }
                wk.subi(update);
            }
            net.fit(ds);
        }
        Map<String, INDArray> actual = params(net);
        assertTrue(actual.keySet().stream().anyMatch(k -> k.endsWith("_b")), "biases are compared: " + actual.keySet());
        assertTrue(actual.keySet().stream().anyMatch(k -> k.endsWith("_gamma")), "BN gamma is compared: " + actual.keySet());
        assertTrue(actual.keySet().stream().anyMatch(k -> k.endsWith("_beta")), "BN beta is compared: " + actual.keySet());
        double off = maxDifference(w, actual);
        System.out.printf(java.util.Locale.ROOT, "%s %s%s: max |formula - network| after two steps %.3g%n", updater, kind,
                nesterovFormula ? " (Nesterov formula)" : "", off);
        return off;
    }

    @Test
    void resNetRecipeStepsAreTorchvisionsSgdWithL2WeightDecay() {
        double off = twoStepsAgainstFormula(new SgdMomentum(LR, MU), WeightDecayKind.L2, false);
        assertTrue(off < ROUNDING, "zoo SGD momentum + L2 vs torch.optim.SGD formula: max |diff| " + off);
    }

    @Test
    void decoupledWeightDecayIsAppliedAfterTheUpdater() {
        double off = twoStepsAgainstFormula(new SgdMomentum(LR, MU), WeightDecayKind.DECOUPLED, false);
        assertTrue(off < ROUNDING, "decoupled: w -= lr v + lr c w; max |diff| " + off);
        // and the two kinds are told apart by the comparison
        double mixed = twoStepsAgainstFormula(new SgdMomentum(LR, MU), WeightDecayKind.DECOUPLED, false)
                - twoStepsAgainstFormula(new SgdMomentum(LR, MU), WeightDecayKind.L2, false);
        assertTrue(Math.abs(mixed) < ROUNDING);
    }

    @Test
    void theComparisonSeesTheDifferenceBetweenKindsAndMomentumVariants() {
        // L2 network against the decoupled formula: off by about lr c |w| (mu + 1) in two steps
        ComputationGraph l2 = tinyZooNet(new SgdMomentum(LR, MU), C, WeightDecayKind.L2);
        ComputationGraph decoupled = tinyZooNet(new SgdMomentum(LR, MU), C, WeightDecayKind.DECOUPLED);
        DataSet ds = data();
        for (int i = 0; i < 2; i++) {
            l2.fit(ds);
            decoupled.fit(ds);
        }
        assertTrue(maxDifference(params(l2), params(decoupled)) > 1e4 * ROUNDING, "L2 and decoupled give the same update");
        // DL4J's Nesterovs with L2 matches the Nesterov formula, not torch's plain momentum
        double nesterov = twoStepsAgainstFormula(new org.nd4j.linalg.learning.config.Nesterovs(LR, MU), WeightDecayKind.L2, true);
        assertTrue(nesterov < ROUNDING, "Nesterov formula: " + nesterov);
        ComputationGraph n = tinyZooNet(new org.nd4j.linalg.learning.config.Nesterovs(LR, MU), C, WeightDecayKind.L2);
        ComputationGraph plain = tinyZooNet(new SgdMomentum(LR, MU), C, WeightDecayKind.L2);
        for (int i = 0; i < 2; i++) {
            n.fit(ds);
            plain.fit(ds);
        }
        assertTrue(maxDifference(params(n), params(plain)) > 1e4 * ROUNDING, "Nesterov and plain momentum give the same update");
    }

    @Test
    void sgdMomentumStateIsSavedAndRestoredWithTheNetwork() throws Exception {
        DataSet ds = data();
        ComputationGraph straight = tinyZooNet(new SgdMomentum(LR, MU), C, WeightDecayKind.L2);
        ComputationGraph resumed = tinyZooNet(new SgdMomentum(LR, MU), C, WeightDecayKind.L2);
        straight.fit(ds);
        resumed.fit(ds);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        ModelSerializer.writeModel(resumed, bytes, true);
        resumed = ModelSerializer.restoreComputationGraph(new java.io.ByteArrayInputStream(bytes.toByteArray()), true);
        assertInstanceOf(SgdMomentum.class, ((org.deeplearning4j.nn.conf.layers.BaseLayer) resumed.getLayer(0).getConfig()).getIUpdater());
        assertTrue(resumed.getUpdater().getStateViewArray().amaxNumber().doubleValue() > 0, "velocity saved");
        straight.fit(ds);
        resumed.fit(ds);
        assertEquals(0, maxDifference(params(straight), params(resumed)), ROUNDING, "second step after a save and restore");
    }

    @Test
    void everyParameterDecaysOnceAlsoAfterAJsonRoundTrip() {
        for (WeightDecayKind kind : WeightDecayKind.values()) {
            ComputationGraph net = tinyZooNet(new SgdMomentum(LR, MU), C, kind);
            ComputationGraphConfiguration copy = ComputationGraphConfiguration.fromJson(net.getConfiguration().toJson());
            for (ComputationGraphConfiguration conf : List.of(net.getConfiguration(), copy)) {
                for (GraphVertex v : conf.getVertices().values()) {
                    if (!(v instanceof LayerVertex)) {
                        continue;
                    }
                    Layer layer = ((LayerVertex) v).getLayerConf().getLayer();
                    for (String p : layer.initializer().paramKeys(layer)) {
                        List<Regularization> r = layer.getRegularizationByParam(p);
                        if (trainable(p)) {
                            assertTrue(r != null, (conf == copy ? "after JSON: " : "") + kind + " " + layer.getLayerName() + " " + p + " not decayed");
                            assertEquals(1, r.size(), kind + " " + layer.getLayerName() + " " + p + ": " + r);
                            assertEquals(kind == WeightDecayKind.L2 ? L2Regularization.class : WeightDecay.class, r.get(0).getClass());
                        } else {
                            assertTrue(r == null || r.isEmpty(), "running statistics are not decayed: " + p + " " + r);
                        }
                    }
                }
            }
        }
    }

    @Test
    void penaltyIsHalfCTimesTheSquaredNormOfEveryTrainableParameter() {
        for (WeightDecayKind kind : WeightDecayKind.values()) {
            double c = 1e-2;
            ComputationGraph net = tinyZooNet(new SgdMomentum(LR, MU), c, kind);
            net.fit(data()); // moves gamma/beta and the running statistics away from their initial values
            double sumSquares = 0;
            for (INDArray p : params(net).values()) {
                sumSquares += p.mul(p).sumNumber().doubleValue();
            }
            double penalty = Losses.penalty(net);
            assertEquals(0.5 * c * sumSquares, penalty, 1e-12 * penalty, kind + " penalty");
        }
        assertEquals(0, Losses.penalty(tinyZooNet(new SgdMomentum(LR, MU), 0, WeightDecayKind.L2)), 0);
    }

    @Test
    void dataLossIsTheScoreWithoutThePenaltyAndEqualsTheCrossEntropy() {
        for (WeightDecayKind kind : WeightDecayKind.values()) {
            ComputationGraph net = tinyZooNet(new SgdMomentum(LR, MU), 1e-2, kind);
            DataSet ds = data();
            net.fit(ds);
            INDArray probabilities = net.output(false, ds.getFeatures())[0];
            double crossEntropy = -Transforms.log(probabilities).mul(ds.getLabels()).sum(1).meanNumber().doubleValue();
            double score = net.score(ds, false);
            assertTrue(score - crossEntropy > 1e-3, kind + ": the score holds a visible penalty (" + (score - crossEntropy) + ")");
            assertEquals(crossEntropy, Losses.dataLoss(score, net), 1e-12, kind + " data loss");
        }
    }
}
