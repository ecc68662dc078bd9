package org.sparkzoo.models;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.learning.config.Adam;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every model learns: on 16 real Fashion-MNIST images (upscaled, grey replicated to 3 channels) at a small input,
 * the training loss (all outputs, auxiliary heads weighted) falls to half its first value within a bounded number
 * of Adam steps. Dropout is off (it only adds noise to an overfitting check); drop-path models are also checked
 * with drop-path on in {@link CustomVertexTest}. The heaviest models are tagged "slow" (run with -Dgroups=slow).
 */
class LearningTest {
    static final int IMAGES = 16;
    static final int MAX_STEPS = 40;
    /**
     * Too slow for the default run on 2 shared cores (each still has its output-shape test in ZooTest); every family
     * but Inception v3 / Inception-ResNet, FractalNet and NASNet keeps a member in the default run.
     */
    static final Set<String> SLOW = Set.of("vgg13", "vgg16", "vgg19", "resnet34", "resnet50", "resnet101", "resnet152",
            "densenet169", "densenet201", "inception_v3", "inception_resnet_v2", "fractalnet", "nasnet_mobile");
    /** Plain deep stacks without batch norm need a smaller step. */
    static final Set<String> NO_BATCH_NORM = Set.of("alexnet", "zfnet", "vgg11", "vgg13", "vgg16", "vgg19", "nin", "lenet5");

    @BeforeAll
    static void kernels() {
        NativeKernels.enable();
    }

    static List<String> fast() {
        return ZooTest.names().stream().filter(n -> !SLOW.contains(n)).collect(Collectors.toList());
    }

    static List<String> slow() {
        return ZooTest.names().stream().filter(SLOW::contains).collect(Collectors.toList());
    }

    @ParameterizedTest
    @MethodSource("fast")
    void lossHalvesOnRealImages(String name) throws IOException {
        overfit(name);
    }

    @Tag("slow")
    @ParameterizedTest
    @MethodSource("slow")
    void lossHalvesOnRealImagesSlow(String name) throws IOException {
        overfit(name);
    }

    static void overfit(String name) throws IOException {
        ModelSpec spec = ModelRegistry.get(name);
        int size = ZooTest.smallSize(spec);
        double lr = NO_BATCH_NORM.contains(name) ? 2e-4 : 1e-3;
        ComputationGraph net = spec.build(ModelConfig.of(FashionMnist.CLASSES, 3, size, size)
                .withUpdater(new Adam(lr)).withDropout(0).withDropPath(0).withSeed(12345));
        DataSet ds = FashionMnist.batch(IMAGES, 3, size);
        int outputs = net.getNumOutputArrays();
        INDArray[] labels = new INDArray[outputs];
        Arrays.fill(labels, ds.getLabels());
        MultiDataSet batch = new MultiDataSet(new INDArray[]{ds.getFeatures()}, labels);
        assertArrayEquals(new long[]{IMAGES, FashionMnist.CLASSES}, net.output(ds.getFeatures())[0].shape());

        try {
            train(name, net, batch, size, lr);
        } finally {
            net.close(); // frees the off-heap parameters now rather than at some later GC
        }
    }

    private static void train(String name, ComputationGraph net, MultiDataSet batch, int size, double lr) {
        long start = System.nanoTime();
        double first = Double.NaN;
        double last = Double.NaN;
        int step = 0;
        while (step < MAX_STEPS) {
            net.fit(batch);
            step++;
            last = net.score();
            if (step == 1) {
                first = last;
            } else if (last <= first / 2) {
                break;
            }
        }
        System.out.printf("learning %-20s %3dpx lr %.0e: loss %.3f -> %.3f in %d steps, %.1fs%n", name, size, lr, first, last,
                step, (System.nanoTime() - start) / 1e9);
        assertTrue(Double.isFinite(first) && last <= first / 2,
                name + ": loss " + first + " -> " + last + " after " + step + " steps did not halve");
    }
}
