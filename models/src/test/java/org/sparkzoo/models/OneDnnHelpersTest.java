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

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * STACK.md's open question: do DL4J's oneDNN helpers (conv, batch norm) give the same gradients as DL4J's own
 * kernels? The helper switch is read when each layer creates its helper, so each network is built after setting
 * the property. Gradients of the same parameters on the same real images are compared with helpers on, off, and
 * against a double-precision computation (helpers off).
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
        System.setProperty(NativeKernels.HELPERS_DISABLE_PROPERTY, helpers ? "false" : "true");
        ComputationGraph net = new ComputationGraph(conf);
        net.init(params.castTo(conf.getDataType()), true);
        return net;
    }

    private static INDArray initialParams(ComputationGraphConfiguration conf) {
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        return net.params().dup();
    }

    private static Map<String, INDArray> gradients(ComputationGraph net, DataSet ds) {
        DataType type = net.params().dataType();
        net.setInputs(ds.getFeatures().castTo(type));
        net.setLabels(ds.getLabels().castTo(type));
        net.computeGradientAndScore();
        Map<String, INDArray> out = new LinkedHashMap<>();
        net.gradient().gradientForVariable().forEach((k, v) -> {
            if (!k.endsWith("_mean") && !k.endsWith("_var") && !k.endsWith("_log10stdev")) { // running stats, not gradients
                out.put(k, v.castTo(DataType.DOUBLE).dup());
            }
        });
        return out;
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

    /** A conv/BN/ReLU stem, a pooled residual basic block with a projection, global pool, classifier. */
    private static ComputationGraphConfiguration convBnNet(int size) {
        Graph g = Graph.create(ModelConfig.of(FashionMnist.CLASSES, 3, size, size).withSeed(5), WeightInit.RELU);
        String x = g.convBnAct(Graph.INPUT, 8, 3, 1, 1, Activation.RELU);
        x = g.maxPool(x, 2, 2, 0);
        x = Residual.basic(g, x, 8, 16, 2, 0);
        g.classifier(g.globalAvgPool(x), Graph.OUTPUT);
        return g.build(Graph.OUTPUT);
    }

    @Test
    void convAndBatchNormBlocksGiveTheSameGradientsWithHelpersOnAndOff() throws IOException {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        ComputationGraphConfiguration conf = convBnNet(16);
        DataSet ds = FashionMnist.batch(8, 3, 16);
        INDArray params = initialParams(conf);
        ComputationGraph on = build(conf, true, params);
        ComputationGraph off = build(conf, false, params);
        assertInstanceOf(MKLDNNConvHelper.class, ((org.deeplearning4j.nn.layers.convolution.ConvolutionLayer) on.getLayer(0)).getHelper());
        assertInstanceOf(MKLDNNBatchNormHelper.class, helper(on.getLayer(1)));
        assertNull(helper(off.getLayer(1)), "helpers must be off in the comparison network");
        Map<String, INDArray> gOn = gradients(on, ds);
        Map<String, INDArray> gOff = gradients(off, ds);

        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        ComputationGraphConfiguration confDouble = convBnNet(16);
        Map<String, INDArray> reference = gradients(build(confDouble, false, params), ds);
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);

        StringBuilder where = new StringBuilder();
        double onVsOff = worst(gOn, gOff, where);
        assertTrue(onVsOff < 1e-4, "helpers on vs off: " + where);
        double onVsRef = worst(gOn, reference, where);
        assertTrue(onVsRef < 1e-4, "helpers on vs double precision: " + where);
        double offVsRef = worst(gOff, reference, where);
        assertTrue(offVsRef < 1e-4, "helpers off vs double precision: " + where);
        System.out.printf("oneDNN helpers, conv/BN block: on-vs-off %.1e, on-vs-double %.1e, off-vs-double %.1e%n", onVsOff, onVsRef, offVsRef);
    }

    @Test
    void resNet18GradientsAgreeWithHelpersOnAndOff() throws IOException {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        ModelSpec spec = ModelRegistry.get("resnet18");
        ComputationGraphConfiguration conf = spec.configuration(ModelConfig.of(FashionMnist.CLASSES, 3, 64, 64));
        DataSet ds = FashionMnist.batch(8, 3, 64);
        INDArray params = initialParams(conf);
        ComputationGraph on = build(conf, true, params);
        assertInstanceOf(MKLDNNBatchNormHelper.class, helper(on.getLayer("stem/bn")));
        StringBuilder where = new StringBuilder();
        double onVsOff = worst(gradients(on, ds), gradients(build(conf, false, params), ds), where);
        on.close();
        System.out.printf("oneDNN helpers, resnet18 64px: on-vs-off %.1e (%s)%n", onVsOff, where);
        assertTrue(onVsOff < 1e-3, "helpers on vs off: " + where);
    }

    private static Object helper(Layer layer) {
        return ((org.deeplearning4j.nn.layers.normalization.BatchNormalization) layer).getHelper();
    }
}
