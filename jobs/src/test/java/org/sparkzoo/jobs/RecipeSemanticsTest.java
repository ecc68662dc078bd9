package org.sparkzoo.jobs;

import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.learning.regularization.WeightDecay;
import org.sparkzoo.jobs.cli.Cli;
import org.sparkzoo.jobs.train.Recipes;
import org.sparkzoo.jobs.train.TrainOptions;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelRegistry;
import org.sparkzoo.models.WeightDecayKind;
import org.sparkzoo.models.training.SgdMomentum;
import org.sparkzoo.models.vertices.FractalJoinVertex;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each recipe means what it says, down to the network the train-job builds from it (through
 * {@link TrainOptions#modelConfig}, which the Trainer calls); models' WeightDecayTest checks that such a network
 * steps exactly as torch.optim.SGD does.
 */
class RecipeSemanticsTest {
    private static final PrintStream SINK = new PrintStream(new ByteArrayOutputStream());

    /** What train-job parses for {@code --model model} plus {@code extra}: the recipe first, the user's options after. */
    private static TrainOptions options(String model, String... extra) throws Exception {
        List<String> args = new ArrayList<>(Recipes.args(model, "", new Configuration()));
        args.addAll(List.of("--model", model, "--data", "d", "--output", "o"));
        args.addAll(List.of(extra));
        return TrainJob.cli().parse(args.toArray(new String[0]), new TrainOptions(), SINK);
    }

    @Test
    void resNetRecipeIsTorchvisions() throws Exception {
        TrainOptions o = options("resnet50");
        assertEquals("sgd", o.optimizer);
        assertEquals(0.9, o.momentum, 0);
        assertEquals(0.1, o.lr, 0);
        assertEquals(256, o.lrReferenceBatch);
        assertEquals(1e-4, o.weightDecay, 0);
        assertEquals("l2", o.weightDecayMode);
        assertEquals("step", o.lrSchedule);
        assertEquals(30, o.lrStepEpochs);
        assertEquals(0.1, o.lrGamma, 0);
        assertEquals(90, o.epochs);

        ModelConfig config = o.modelConfig(10, 32, 0.1);
        SgdMomentum sgd = assertInstanceOf(SgdMomentum.class, config.updater, "plain momentum, not Nesterov");
        assertEquals(0.9, sgd.getMomentum(), 0);
        assertEquals(WeightDecayKind.L2, config.weightDecayKind);
        // every trainable parameter of the built ResNet-50 takes L2 1e-4, the BN running statistics none
        ComputationGraphConfiguration conf = ModelRegistry.get("resnet50").configuration(config);
        int decayed = 0;
        for (GraphVertex v : conf.getVertices().values()) {
            if (!(v instanceof LayerVertex) || !(((LayerVertex) v).getLayerConf().getLayer() instanceof BaseLayer)) {
                continue;
            }
            Layer layer = ((LayerVertex) v).getLayerConf().getLayer();
            assertInstanceOf(SgdMomentum.class, ((BaseLayer) layer).getIUpdater(), layer.getLayerName());
            for (String p : layer.initializer().paramKeys(layer)) {
                List<Regularization> r = layer.getRegularizationByParam(p);
                boolean runningStatistic = layer instanceof BatchNormalization && !p.equals("gamma") && !p.equals("beta");
                if (runningStatistic) {
                    assertTrue(r == null || r.isEmpty(), layer.getLayerName() + " " + p);
                } else {
                    assertEquals(List.of(new L2Regularization(1e-4)), r, layer.getLayerName() + " " + p);
                    decayed++;
                }
            }
        }
        assertTrue(decayed > 150, "decayed parameter arrays: " + decayed);
    }

    @Test
    void otherRecipesAndTheModeOption() throws Exception {
        TrainOptions d = options("densenet121");
        assertInstanceOf(Nesterovs.class, d.modelConfig(10, 32, 0.1).updater, "default recipe: Nesterov");
        assertEquals(WeightDecayKind.L2, d.modelConfig(10, 32, 0.1).weightDecayKind);
        TrainOptions lenet = options("lenet5");
        assertInstanceOf(Adam.class, lenet.modelConfig(10, 32, 0.004).updater);
        assertEquals(0, lenet.modelConfig(10, 32, 0.004).weightDecay, 0);

        TrainOptions decoupled = options("resnet18", "--weight-decay-mode", "decoupled", "--weight-decay", "5e-4");
        ComputationGraphConfiguration conf = ModelRegistry.get("resnet18").configuration(decoupled.modelConfig(10, 32, 0.1));
        Layer first = ((LayerVertex) conf.getVertices().get("stem/conv")).getLayerConf().getLayer();
        assertEquals(List.of(new WeightDecay(5e-4, true)), first.getRegularizationByParam("W"));
        // --optimizer sgd --momentum 0 is plain SGD
        assertEquals("Sgd", options("resnet18", "--momentum", "0").modelConfig(10, 32, 0.1).updater.getClass().getSimpleName());
    }

    @Test
    void dropPathWidthAndClassifierDropoutReachTheNetwork() throws Exception {
        ComputationGraphConfiguration fractal = ModelRegistry.get("fractalnet").configuration(options("fractalnet").modelConfig(10, 64, 0.1));
        List<Double> rates = new ArrayList<>();
        fractal.getVertices().values().forEach(v -> {
            if (v instanceof FractalJoinVertex) {
                rates.add(((FractalJoinVertex) v).getDropProbability());
            }
        });
        assertTrue(!rates.isEmpty() && rates.stream().allMatch(r -> r == 0.15), "paper's drop-path by default: " + rates);

        ModelConfig m = options("mobilenet_v2", "--width-multiplier", "0.5", "--classifier-dropout", "0.3").modelConfig(10, 64, 0.1);
        assertEquals(0.5, m.widthMultiplier, 0);
        assertEquals(0.3, m.dropout, 0);
        assertEquals(-1, options("mobilenet_v2").modelConfig(10, 64, 0.1).dropout, 0, "the paper's by default");

        for (String[] bad : new String[][]{{"--weight-decay-mode", "l1"}, {"--width-multiplier", "0"},
                {"--classifier-dropout", "1.5"}, {"--drop-path", "-0.2"}, {"--momentum", "1"}, {"--weight-decay", "-1"}}) {
            Cli.CliExit e = assertThrows(Cli.CliExit.class, () -> options("mobilenet_v2", bad), String.join(" ", bad));
            assertEquals(2, e.code);
            assertTrue(e.getMessage().contains(bad[0]), e.getMessage());
        }
    }
}
