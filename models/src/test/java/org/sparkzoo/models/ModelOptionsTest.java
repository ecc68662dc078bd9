package org.sparkzoo.models;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.junit.jupiter.api.Test;
import org.sparkzoo.models.vertices.DropoutVertex;
import org.sparkzoo.models.vertices.FractalJoinVertex;
import org.sparkzoo.models.zoo.FractalNet;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The regularizing and scaling options of ModelConfig reach the built networks; by default each paper's values. */
class ModelOptionsTest {
    private static ComputationGraphConfiguration build(String model, ModelConfig config) {
        return ModelRegistry.get(model).configuration(config);
    }

    private static ModelConfig small() {
        return ModelConfig.of(10, 3, 64, 64);
    }

    private static List<FractalJoinVertex> joins(ComputationGraphConfiguration conf) {
        List<FractalJoinVertex> out = new ArrayList<>();
        for (GraphVertex v : conf.getVertices().values()) {
            if (v instanceof FractalJoinVertex) {
                out.add((FractalJoinVertex) v);
            }
        }
        return out;
    }

    /** Drop probabilities of the network's dropout vertices. */
    private static List<Double> dropoutRates(ComputationGraphConfiguration conf) {
        List<Double> out = new ArrayList<>();
        for (GraphVertex v : conf.getVertices().values()) {
            if (v instanceof DropoutVertex) {
                out.add(((DropoutVertex) v).getDropProbability());
            }
            assertTrue(!(v instanceof LayerVertex) || !(((LayerVertex) v).getLayerConf().getLayer() instanceof DropoutLayer),
                    "a DL4J DropoutLayer draws from the global RNG");
        }
        return out;
    }

    @Test
    void fractalNetTrainsWithThePapersDropPathUnlessToldOtherwise() {
        List<FractalJoinVertex> paper = joins(build("fractalnet", small()));
        assertEquals(4 * 4, paper.size(), "B=4 blocks of C=4 columns, 2^(C-2) joins each");
        for (FractalJoinVertex j : paper) {
            assertEquals(0.15, j.getDropProbability(), 0, "local drop-path");
            assertEquals(0.5, j.getGlobalFraction(), 0, "share of global drop-path mini-batches");
        }
        assertEquals(FractalNet.PAPER_DROP_PATH, 0.15);
        joins(build("fractalnet", small().withDropPath(0))).forEach(j -> assertEquals(0, j.getDropProbability(), 0));
        joins(build("fractalnet", small().withDropPath(0.3))).forEach(j -> assertEquals(0.3, j.getDropProbability(), 0));
    }

    @Test
    void mobileNetWidthMultiplierScalesEveryLayer() {
        for (String model : List.of("mobilenet_v1", "mobilenet_v2")) {
            ComputationGraphConfiguration full = build(model, small());
            ComputationGraphConfiguration half = build(model, small().withWidthMultiplier(0.5));
            assertEquals(32, firstConvWidth(full), model);
            assertEquals(16, firstConvWidth(half), model + " stem at alpha 0.5");
            long ratio100 = 100 * ModelStats.trainableParams(half) / ModelStats.trainableParams(full);
            assertTrue(ratio100 > 15 && ratio100 < 60, model + ": alpha 0.5 keeps " + ratio100 + "% of the parameters");
        }
        assertThrows(IllegalArgumentException.class, () -> small().withWidthMultiplier(0));
    }

    private static long firstConvWidth(ComputationGraphConfiguration conf) {
        Layer stem = ((LayerVertex) conf.getVertices().get("stem/conv")).getLayerConf().getLayer();
        return ((ConvolutionLayer) stem).getNOut();
    }

    @Test
    void classifierDropoutIsThePapersUnlessSet() {
        assertEquals(List.of(0.2), dropoutRates(build("mobilenet_v2", small())), "torchvision's 0.2");
        assertEquals(List.of(0.3), dropoutRates(build("mobilenet_v2", small().withDropout(0.3))));
        assertEquals(List.of(), dropoutRates(build("mobilenet_v2", small().withDropout(0))), "0 = no dropout vertex");
        assertEquals(List.of(0.1, 0.1), dropoutRates(build("vgg11", ModelConfig.of(10, 3, 32, 32).withDropout(0.1))));
        assertEquals(List.of(), dropoutRates(build("lenet5", small())), "LeNet-5 has none");
        assertEquals(List.of(0.25), dropoutRates(build("lenet5", small().withDropout(0.25))), "but takes one when asked");
        assertThrows(IllegalArgumentException.class, () -> small().withDropout(1));
    }
}
