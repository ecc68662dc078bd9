package org.sparkzoo.models;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.sparkzoo.models.blocks.Graph;
import org.sparkzoo.models.vertices.FractalJoinVertex;
import org.sparkzoo.models.vertices.Masks;
import org.sparkzoo.models.zoo.FractalNet;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Drop masks per worker: two workers fitting the same iteration of the same network draw different masks, and a
 * given (seed, worker stream, iteration) draws the same masks in any network instance (reproducible runs).
 */
class WorkerMasksTest {
    private static final int EXAMPLES = 16;

    private static ComputationGraph fresh(ComputationGraphConfiguration conf, INDArray params) {
        ComputationGraph net = new ComputationGraph(ComputationGraphConfiguration.fromJson(conf.toJson()));
        net.init(params.dup(), true);
        return net;
    }

    /** Which examples' branch survived, per iteration (the drop-path vertex's output is 0 for a dropped example). */
    private static List<String> dropPathMasks(ComputationGraph net, String vertex, INDArray input) {
        List<String> masks = new ArrayList<>();
        for (int it = 0; it < 4; it++) {
            net.getConfiguration().setIterationCount(it);
            INDArray out = net.feedForward(input, true).get(vertex);
            StringBuilder m = new StringBuilder();
            for (int i = 0; i < EXAMPLES; i++) {
                m.append(out.slice(i).amaxNumber().doubleValue() == 0 ? '0' : '1');
            }
            masks.add(m.toString());
        }
        return masks;
    }

    @Test
    void dropPathMasksDependOnTheWorkerAndAreReproduciblePerWorker() {
        Graph g = Graph.create(ModelConfig.of(3, 1, 4, 4).withUpdater(new NoOp()).withSeed(3), WeightInit.RELU);
        String x = g.conv(Graph.INPUT, 2, 3, 1, 1, Activation.TANH);
        String drop = g.dropPath(g.conv(x, 2, 3, 1, 1, Activation.IDENTITY), 0.5);
        g.classifier(g.globalAvgPool(g.add(x, drop)), Graph.OUTPUT);
        ComputationGraphConfiguration conf = g.build(Graph.OUTPUT);
        ComputationGraph base = new ComputationGraph(conf);
        base.init();
        INDArray input = Nd4j.rand(DataType.FLOAT, EXAMPLES, 1, 4, 4).addi(0.1);

        ComputationGraph worker0 = fresh(conf, base.params());
        ComputationGraph worker1 = fresh(conf, base.params());
        Masks.setWorkerStream(worker1, 1);
        assertEquals(0, Masks.workerStream(worker0));
        assertEquals(1, Masks.workerStream(worker1));
        List<String> m0 = dropPathMasks(worker0, drop, input);
        List<String> m1 = dropPathMasks(worker1, drop, input);
        for (int it = 0; it < m0.size(); it++) {
            assertNotEquals(m0.get(it), m1.get(it), "workers 0 and 1 drew the same mask at iteration " + it);
        }
        // same (seed, worker, iteration) in another instance, built later: same masks
        ComputationGraph again = fresh(conf, base.params());
        Masks.setWorkerStream(again, 1);
        assertEquals(m1, dropPathMasks(again, drop, input));
        assertEquals(m0, dropPathMasks(fresh(conf, base.params()), drop, input));
    }

    @Test
    void fractalNetDrawsItsJoinsPerWorker() {
        ModelConfig config = ModelConfig.of(3, 1, 8, 8).withUpdater(new NoOp()).withSeed(5).withDropPath(0.5);
        ComputationGraphConfiguration conf = FractalNet.build(config, new FractalNet.Arch(3, new int[]{2}));
        List<String> joins = new ArrayList<>();
        for (Map.Entry<String, GraphVertex> e : conf.getVertices().entrySet()) {
            if (e.getValue() instanceof FractalJoinVertex) {
                joins.add(e.getKey());
            }
        }
        ComputationGraph base = new ComputationGraph(conf);
        base.init();
        INDArray input = Nd4j.rand(DataType.FLOAT, 2, 1, 8, 8);
        List<List<INDArray>> perWorker = new ArrayList<>();
        for (long worker = 0; worker < 4; worker++) {
            ComputationGraph net = fresh(conf, base.params());
            Masks.setWorkerStream(net, worker);
            List<INDArray> outs = new ArrayList<>();
            for (int it = 0; it < 3; it++) {
                net.getConfiguration().setIterationCount(it);
                Map<String, INDArray> acts = net.feedForward(input, true);
                joins.forEach(j -> outs.add(acts.get(j)));
            }
            perWorker.add(outs);
        }
        // some worker's joins differ from worker 0's in these 3 iterations (the draw has few outcomes per join)
        assertTrue(perWorker.subList(1, 4).stream().anyMatch(o -> !o.equals(perWorker.get(0))),
                "workers 1-3 dropped the same fractal paths as worker 0 in every iteration");
        ComputationGraph repeat = fresh(conf, base.params());
        Masks.setWorkerStream(repeat, 3);
        List<INDArray> outs = new ArrayList<>();
        for (int it = 0; it < 3; it++) {
            repeat.getConfiguration().setIterationCount(it);
            Map<String, INDArray> acts = repeat.feedForward(input, true);
            joins.forEach(j -> outs.add(acts.get(j)));
        }
        assertEquals(perWorker.get(3), outs, "same (seed, worker, iteration): same joins");
    }
}
