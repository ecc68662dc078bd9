package org.sparkzoo.models;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.sparkzoo.models.training.ZooGraph;
import org.sparkzoo.models.training.Losses;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Losses#penalty} and {@link ZooGraph} in float, on a real zoo network (ResNet-18 at 32x32, 11.2M
 * parameters, arrays of up to 2.4M elements) and real Fashion-MNIST images: the same penalty as DL4J's, to double
 * precision, and the same training.
 */
class FastPenaltyTest {
    /**
     * Each 2^18-element piece is summed in float by BLAS (its SIMD lanes each add n/lanes positive terms: relative
     * error at most n/lanes x 2^-24, 2e-7 measured on 23.6M parameters); 1e-4 leaves 500x that.
     */
    private static final double PIECE_ROUNDING = 1e-4;

    private static ComputationGraph resnet18(double c, WeightDecayKind kind) {
        ModelConfig config = ModelConfig.of(FashionMnist.CLASSES, 1, 32, 32).withSeed(3)
                .withUpdater(new Nesterovs(0.01, 0.9)).withWeightDecay(c, kind);
        return ModelRegistry.get("resnet18").build(config);
    }

    /** 0.5 c sum w^2 over every trainable parameter (not batch norm's running statistics), summed in double. */
    private static double exactPenalty(ComputationGraph net, double c) {
        double sum = 0;
        for (INDArray p : WeightDecayTest.params(net).values()) {
            INDArray w = p.castTo(DataType.DOUBLE);
            sum += w.mul(w).sumNumber().doubleValue();
        }
        return 0.5 * c * sum;
    }

    /** A plain DL4J network with {@code net}'s configuration and parameters. */
    private static ComputationGraph plainCopy(ComputationGraph net) {
        ComputationGraph plain = new ComputationGraph(net.getConfiguration().clone());
        plain.init(net.params().dup(), false);
        return plain;
    }

    @Test
    void penaltyIsTheDoublePrecisionSumForBothKindsOfWeightDecay() {
        for (WeightDecayKind kind : WeightDecayKind.values()) {
            double c = 1e-4;
            ComputationGraph net = resnet18(c, kind);
            assertEquals(DataType.FLOAT, net.params().dataType());
            double exact = exactPenalty(net, c);
            assertTrue(exact > 0.1, kind + ": a visible penalty (" + exact + ")");
            assertEquals(exact, Losses.penalty(net), PIECE_ROUNDING * exact, kind + " penalty");
            assertEquals(Losses.penalty(net), net.calcRegularizationScore(true), 0, kind + ": the graph's own penalty is this one");
            // DL4J's own sum is the same quantity, within its float accumulation of up to 2.4M elements one by one
            double dl4j = plainCopy(net).calcRegularizationScore(true);
            assertEquals(exact, dl4j, 0.01 * exact, kind + ": DL4J's penalty"); // 1.3e-4 measured
        }
        assertEquals(0, Losses.penalty(resnet18(0, WeightDecayKind.L2)), 0, "no weight decay, no penalty");
        ComputationGraph net = resnet18(1e-4, WeightDecayKind.L2);
        ComputationGraph plain = plainCopy(net);
        System.out.printf("penalty of resnet18 at 32x32 (11.2M parameters), median of 9: DL4J %.1f ms, Losses %.1f ms%n",
                medianMillis(() -> plain.calcRegularizationScore(true)), medianMillis(() -> Losses.penalty(net)));
    }

    /** For the record, not asserted (BENCHMARKS.md quotes it): the median time of 9 calls after 3 untimed ones. */
    private static double medianMillis(java.util.function.DoubleSupplier f) {
        double[] t = new double[9];
        for (int i = -3; i < t.length; i++) {
            long t0 = System.nanoTime();
            f.getAsDouble();
            if (i >= 0) {
                t[i] = (System.nanoTime() - t0) / 1e6;
            }
        }
        java.util.Arrays.sort(t);
        return t[t.length / 2];
    }

    @Test
    void theZooBuildsZooGraphsThatTrainAsDl4jsAndSaveAsPlainOnes() throws Exception {
        // the penalty alone: with sparkzoo's batch-norm kernel too, float rounding would part the two in 3 steps
        // (OneDnnHelpersTest compares that kernel's gradients)
        System.setProperty(ZooGraph.KERNELS_PROPERTY, "dl4j");
        ComputationGraph fast;
        try {
            fast = resnet18(5e-4, WeightDecayKind.L2);
        } finally {
            System.clearProperty(ZooGraph.KERNELS_PROPERTY);
        }
        assertInstanceOf(ZooGraph.class, fast);
        ComputationGraph plain = plainCopy(fast);
        assertEquals(ComputationGraph.class, plain.getClass());
        DataSet batch = FashionMnist.batch(16, 1, 32);
        for (int step = 0; step < 3; step++) {
            fast.fit(batch);
            plain.fit(batch);
            // the penalty is in the score only; the regularizations act in the updater, as before
            double bound = 1e-5 * Math.abs(plain.score());
            assertEquals(plain.score(), fast.score(), 0.01 * Losses.penalty(plain) + bound, "step " + step + " score");
            INDArray diff = fast.params().sub(plain.params());
            double relative = diff.norm2Number().doubleValue() / plain.params().norm2Number().doubleValue();
            assertTrue(relative < 1e-5, "step " + step + ": parameters differ by " + relative);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSerializer.writeModel(fast, bytes, true);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(bytes.toByteArray()), true);
        assertEquals(ComputationGraph.class, restored.getClass());
        assertEquals(fast.params(), restored.params());
    }
}
