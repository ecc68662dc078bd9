package org.sparkzoo.models;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every registered model: builds, gives [batch, classes] on every output at a small input, round-trips as JSON, knows its minimum input. */
class ZooTest {
    static final List<String> REQUIRED = List.of("lenet5", "alexnet", "zfnet", "vgg11", "vgg13", "vgg16", "vgg19", "nin",
            "googlenet", "inception_v3", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnet50_v2",
            "wide_resnet50_2", "inception_resnet_v2", "fractalnet", "densenet121", "densenet169", "densenet201",
            "se_resnet50", "mobilenet_v1", "mobilenet_v2", "squeezenet1_1", "nasnet_mobile", "xception");

    static List<String> names() {
        return ModelRegistry.all().stream().map(s -> s.name).collect(Collectors.toList());
    }

    /** The small side used in tests: 32 px, or the model's minimum when that is larger. */
    static int smallSize(ModelSpec spec) {
        return Math.max(32, spec.minInputSize);
    }

    @BeforeAll
    static void kernels() {
        NativeKernels.enable();
    }

    @org.junit.jupiter.api.Test
    void everyArchitectureOfTheLineageIsRegistered() {
        for (String name : REQUIRED) {
            assertTrue(ModelRegistry.contains(name), "missing " + name);
        }
        assertEquals(REQUIRED.size(), names().size(), "registry: " + names());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelRegistry.get("densnet121"));
        assertTrue(e.getMessage().contains("did you mean densenet121?"), e.getMessage());
    }

    @ParameterizedTest
    @MethodSource("names")
    void outputShapeAtMinimumInput(String name) {
        ModelSpec spec = ModelRegistry.get(name);
        int size = spec.minInputSize;
        ComputationGraph net = spec.build(ModelConfig.of(7, 3, size, size));
        INDArray[] out = net.output(false, Nd4j.rand(Nd4j.defaultFloatingPointType(), 2, 3, size, size));
        assertEquals(net.getConfiguration().getNetworkOutputs().size(), out.length);
        for (INDArray o : out) {
            assertArrayEquals(new long[]{2, 7}, o.shape(), name);
            assertFalse(o.isNaN().any() || o.isInfinite().any(), name + " gives NaN/Inf at init");
            INDArray rowSums = o.sum(1);
            assertTrue(rowSums.sub(1.0).amax().getDouble(0) < 1e-4, name + " outputs are not distributions");
        }
        assertEquals(ModelStats.allParams(net.getConfiguration()), net.numParams(), "config-side count differs from DL4J's");
        net.close();
    }

    @ParameterizedTest
    @MethodSource("names")
    void configurationSurvivesJsonRoundTrip(String name) {
        ModelSpec spec = ModelRegistry.get(name);
        ComputationGraphConfiguration conf = spec.configuration(ModelConfig.of(10, 1, smallSize(spec), smallSize(spec))
                .withStochasticDepth(0.2).withDropPath(0.15));
        String json = conf.toJson();
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(json);
        assertEquals(json, back.toJson());
        assertEquals(conf, back);
    }

    @ParameterizedTest
    @MethodSource("names")
    void minimumInputSizeIsTight(String name) {
        ModelSpec spec = ModelRegistry.get(name);
        int min = spec.minInputSize;
        ModelConfig ok = ModelConfig.of(10, 3, min, min);
        ComputationGraphConfiguration conf = spec.configuration(ok);
        assertTrue(ModelStats.trainableParams(conf) > 0);
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> spec.configuration(ModelConfig.of(10, 3, min - 1, min - 1)));
        assertTrue(refused.getMessage().contains("at least " + min), refused.getMessage());
        assertTrue(ModelStats.windowsFit(conf, 3, min, min), name + ": a window exceeds its input at the declared minimum " + min);
        if (min > 1) {
            boolean fits;
            try {
                fits = ModelStats.windowsFit(spec.configurationUnchecked(ModelConfig.of(10, 3, min - 1, min - 1)), 3, min - 1, min - 1);
            } catch (RuntimeException e) {
                fits = false; // DL4J refused the configuration
            }
            assertFalse(fits, name + " still fits at " + (min - 1) + ": its minimum input is smaller than declared");
        }
    }
}
