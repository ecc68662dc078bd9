package org.sparkzoo.models;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.sparkzoo.models.blocks.Graph;
import org.sparkzoo.models.vertices.DropoutVertex;
import org.sparkzoo.models.vertices.Masks;

import java.io.File;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The zoo's classifier dropout ({@link DropoutVertex}): masks a pure function of (seed, worker stream, epoch,
 * iteration, vertex), the inverted-dropout scaling, the identity at inference, and survival of a save and load.
 */
class DropoutVertexTest {
    private static final int CLASSES = 3;

    /** input [n, c, h, w] -> dropout(p) -> dropout(p) -> global average pool -> softmax. */
    private static ComputationGraphConfiguration twoDropouts(int channels, int size, double p) {
        Graph g = Graph.create(ModelConfig.of(CLASSES, channels, size, size).withUpdater(new Sgd(0.1)).withSeed(11),
                WeightInit.XAVIER);
        String d = g.dropout(g.dropout(Graph.INPUT, p), p);
        g.classifier(g.globalAvgPool(d), Graph.OUTPUT);
        return g.build(Graph.OUTPUT);
    }

    private static ComputationGraph fresh(ComputationGraphConfiguration conf, INDArray params) {
        ComputationGraph net = new ComputationGraph(ComputationGraphConfiguration.fromJson(conf.toJson()));
        net.init(params.dup(), true);
        return net;
    }

    private static ComputationGraph initialized(ComputationGraphConfiguration conf) {
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        return net;
    }

    /** The first dropout vertex's output at (epoch, iteration) in training mode. */
    private static INDArray dropped(ComputationGraph net, INDArray input, int epoch, int iteration) {
        net.getConfiguration().setEpochCount(epoch);
        net.getConfiguration().setIterationCount(iteration);
        return net.feedForward(input, true).get("dropout");
    }

    private static INDArray input(int n, int channels, int size) {
        // strictly positive, so that a 0 in the output is a dropped unit
        return Nd4j.rand(DataType.FLOAT, n, channels, size, size).addi(0.5);
    }

    @Test
    void maskIsAFunctionOfSeedWorkerAndStep() {
        ComputationGraphConfiguration conf = twoDropouts(2, 4, 0.5);
        ComputationGraph base = initialized(conf);
        INDArray x = input(8, 2, 4);
        INDArray m = dropped(base, x, 0, 3);
        assertEquals(base.feedForward(x, true).get("dropout"), m, "a second forward pass of the step: same mask");

        ComputationGraph other = fresh(conf, base.params());
        assertEquals(m, dropped(other, x, 0, 3), "another instance, same (seed, stream, step): same mask");
        assertNotEquals(m, dropped(other, x, 0, 4), "next iteration: new mask");
        assertNotEquals(m, dropped(other, x, 1, 3), "next epoch: new mask");
        Masks.setWorkerStream(other, 1);
        assertNotEquals(m, dropped(other, x, 0, 3), "worker stream 1: its own mask");
        ComputationGraph worker1 = fresh(conf, base.params());
        Masks.setWorkerStream(worker1, 1);
        assertEquals(dropped(other, x, 0, 3), dropped(worker1, x, 0, 3), "same worker stream in a new instance");

        // the second dropout vertex has its own salt: a unit survives both in ~1/4 of the cases, not 1/2
        INDArray both = base.feedForward(x, true).get("dropout_2");
        double survivedBoth = both.neq(0).castTo(DataType.DOUBLE).meanNumber().doubleValue();
        assertTrue(survivedBoth < 0.4, "the two dropouts drew the same mask: " + survivedBoth + " of the units survived both");
    }

    @Test
    void dropsAboutPAndKeepsTheMean() {
        double p = 0.5;
        double keep = 1 - p;
        ComputationGraph net = initialized(twoDropouts(10, 100, p)); // 10 x 100 x 100 = 100k units per example
        INDArray x = input(1, 10, 100);
        INDArray y = dropped(net, x, 0, 0);
        long n = x.length();
        INDArray kept = y.neq(0).castTo(DataType.FLOAT);
        double dropped = 1 - kept.sumNumber().doubleValue() / n;
        // sd of the dropped fraction is sqrt(p(1-p)/n) = 0.0016: within 1% is over 6 sd
        assertEquals(p, dropped, 0.01, "fraction dropped");
        // every kept unit is x/keep to float rounding
        INDArray expected = x.div(keep).muli(kept);
        assertTrue(expected.equalsWithEps(y, 1e-5), "kept units not scaled by 1/keep");
        // E[mean y] = mean x, Var[mean y] = sum(x^2) p/keep / n^2; allow 5 sd
        double sd = Math.sqrt(x.mul(x).sumNumber().doubleValue() * p / keep) / n;
        assertEquals(x.meanNumber().doubleValue(), y.meanNumber().doubleValue(), 5 * sd, "mean of y vs mean of x");
    }

    @Test
    void identityAtInference() {
        ComputationGraph net = initialized(twoDropouts(2, 4, 0.5));
        INDArray x = input(8, 2, 4);
        assertEquals(x, net.feedForward(x, false).get("dropout_2"));
        net.getConfiguration().setIterationCount(0);
        INDArray out0 = net.output(x)[0];
        net.getConfiguration().setIterationCount(5);
        assertEquals(out0, net.output(x)[0], "output() depends on no mask");
        // and equals the classifier applied to the undropped input: global average pool of x
        ComputationGraph noDropout = initialized(twoDropouts(2, 4, 0));
        noDropout.setParams(net.params());
        assertEquals(out0, noDropout.output(x)[0]);
    }

    @Test
    void savedNetworkDrawsTheSameMask(@TempDir Path dir) throws Exception {
        ComputationGraph net = initialized(twoDropouts(2, 4, 0.5));
        INDArray x = input(8, 2, 4);
        DataSet batch = new DataSet(x, Nd4j.eye(CLASSES).getRows(0, 1, 2, 0, 1, 2, 0, 1).castTo(DataType.FLOAT));
        net.fit(batch);
        net.fit(batch);
        File file = dir.resolve("net.zip").toFile();
        ModelSerializer.writeModel(net, file, true);
        ComputationGraph loaded = ModelSerializer.restoreComputationGraph(file, true);
        assertTrue(loaded.getConfiguration().getVertices().get("dropout") instanceof DropoutVertex);
        assertEquals(0.5, ((DropoutVertex) loaded.getConfiguration().getVertices().get("dropout")).getDropProbability(), 0);
        assertEquals(2, loaded.getConfiguration().getIterationCount());
        assertEquals(net.feedForward(x, true).get("dropout"), loaded.feedForward(x, true).get("dropout"));
        // and the next step, trained from both, ends at the same parameters
        net.fit(batch);
        loaded.fit(batch);
        assertEquals(net.params(), loaded.params());
    }

    @Test
    void interleavedTrainingIsReproducible() {
        // two runs of the same steps, interleaved in one JVM: the old DL4J DropoutLayer drew both from one global RNG
        Graph g = Graph.create(ModelConfig.of(CLASSES, 2, 6, 6).withUpdater(new Sgd(0.1)).withSeed(5), WeightInit.RELU);
        String f = g.dense(g.globalAvgPool(g.conv(Graph.INPUT, 8, 3, 1, 1, Activation.RELU)), 16, Activation.RELU);
        g.classifier(g.dropout(f, 0.5), Graph.OUTPUT);
        ComputationGraphConfiguration conf = g.build(Graph.OUTPUT);
        ComputationGraph a = initialized(conf);
        ComputationGraph b = fresh(conf, a.params());
        INDArray x = input(6, 2, 6);
        DataSet batch = new DataSet(x, Nd4j.eye(CLASSES).getRows(0, 1, 2, 0, 1, 2).castTo(DataType.FLOAT));
        for (int step = 0; step < 3; step++) {
            a.fit(batch);
            Nd4j.getRandom().nextDouble(); // whatever else uses the global RNG in between
            b.fit(batch);
        }
        assertEquals(a.params(), b.params());
    }
}
