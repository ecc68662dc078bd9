package org.sparkzoo.models.training;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.impl.ElementWiseVertex;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelRegistry;
import org.sparkzoo.models.vertices.BroadcastProductVertex;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ChannelScaleVertex} against DL4J's element-wise product on the same feature map and gates: the same output
 * and feature-map gradient bit for bit, the gates' gradient within float rounding of a double-precision sum (as is
 * DL4J's, the control), without DL4J's tiling of the gates (counted by ND4J's op profiler); and that a zoo graph
 * applies its squeeze-and-excitation gates with it.
 */
class ChannelScaleVertexTest {

    @Test
    void sameProductAndGradientsWithoutTilingTheGates() {
        int n = 3, c = 70, h = 23, w = 29, plane = h * w; // 210 planes of 667: split between threads, odd lengths
        INDArray x = Nd4j.rand(DataType.FLOAT, n, c, h, w).subi(0.3).muli(5);
        INDArray s = Nd4j.rand(DataType.FLOAT, n, c, 1, 1);
        INDArray dy = Nd4j.rand(DataType.FLOAT, n, c, h, w).subi(0.5);
        GraphVertex stock = new ElementWiseVertex(null, "mul", 0, ElementWiseVertex.Op.Product, DataType.FLOAT);
        GraphVertex fast = new ChannelScaleVertex(null, stock, DataType.FLOAT);
        assertTrue(ChannelScaleVertex.handles(x, s));

        long[] stockTiles = new long[1], fastTiles = new long[1];
        INDArray[] expected = step(stock, x, s, dy, stockTiles);
        INDArray[] actual = step(fast, x, s, dy, fastTiles);
        assertEquals(expected[0], actual[0], "output");
        assertEquals(expected[1], actual[1], "feature-map gradient: dy * s, one rounding either way");
        assertTrue(stockTiles[0] > 0, "DL4J's vertex, the control, broadcasts the gates to the feature map's size");
        assertEquals(0, fastTiles[0], "broadcast_to ops in the channel scale's training step");

        // the gates' gradient: a sum of 667 products per plane, against the same sum in double
        double[] xd = x.data().asDouble(), dyd = dy.data().asDouble();
        float[] mine = actual[2].data().asFloat(), dl4j = expected[2].data().asFloat();
        for (int p = 0; p < n * c; p++) {
            double exact = 0, magnitude = 0;
            for (int k = p * plane; k < (p + 1) * plane; k++) {
                exact += dyd[k] * xd[k];
                magnitude += Math.abs(dyd[k] * xd[k]);
            }
            double unit = Math.ulp(1.0f) / 2; // float's unit roundoff
            assertTrue(Math.abs(mine[p] - exact) <= unit * Math.abs(exact) + 1e-12 * magnitude,
                    "plane " + p + ": " + mine[p] + " against " + exact + " (one rounding of a double sum)");
            assertTrue(Math.abs(dl4j[p] - exact) <= plane * unit * magnitude,
                    "plane " + p + ": DL4J's float sum " + dl4j[p] + " against " + exact + " (the bound for n float additions)");
        }
    }

    private static INDArray[] step(GraphVertex vertex, INDArray x, INDArray s, INDArray dy, long[] tiles) {
        return ProfiledSteps.counting("broadcast_to", tiles, () -> {
            LayerWorkspaceMgr none = LayerWorkspaceMgr.noWorkspaces();
            vertex.setInputs(x, s);
            INDArray out = vertex.doForward(true, none).dup();
            vertex.setEpsilon(dy);
            INDArray[] gradients = vertex.doBackward(false, none).getSecond();
            assertEquals(java.util.Arrays.toString(x.shape()), java.util.Arrays.toString(gradients[0].shape()));
            assertEquals(java.util.Arrays.toString(s.shape()), java.util.Arrays.toString(gradients[1].shape()));
            return new INDArray[]{out, gradients[0].dup(), gradients[1].dup()};
        });
    }

    @Test
    void zooGraphsApplyTheirGatesWithIt() {
        ComputationGraph net = ModelRegistry.get("se_resnet50").build(ModelConfig.of(10, 3, 32, 32));
        long scales = 0;
        for (GraphVertex vertex : net.getVertices()) {
            if (vertex instanceof ChannelScaleVertex) {
                scales++;
                assertTrue(net.getVertex(vertex.getVertexName()) == vertex, "the name lookup finds the replacement");
            }
            assertTrue(!(vertex instanceof ElementWiseVertex)
                            || !(net.getConfiguration().getVertices().get(vertex.getVertexName()) instanceof BroadcastProductVertex),
                    "a gate left to DL4J's product: " + vertex.getVertexName());
        }
        assertEquals(16, scales, "se_resnet50's squeeze-and-excitation blocks");
        INDArray out = net.outputSingle(Nd4j.rand(DataType.FLOAT, 2, 3, 32, 32));
        assertTrue(out.sumNumber().doubleValue() > 0.99 && out.sumNumber().doubleValue() < 2.01, "two softmax rows");
    }
}
