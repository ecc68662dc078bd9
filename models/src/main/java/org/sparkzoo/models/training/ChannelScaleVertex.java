package org.sparkzoo.models.training;

import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkzoo.models.vertices.ParameterlessVertexImpl;

import java.nio.FloatBuffer;

/**
 * The runtime half of {@link org.sparkzoo.models.vertices.BroadcastProductVertex}: a feature map x [N,C,H,W] scaled
 * channel by channel by gates s [N,C,1,1] (squeeze-and-excitation). DL4J's {@code ElementWiseVertex} computes the
 * same product, but its backward first tiles the gates to the feature map's size (libnd4j's {@code tile}, an index
 * computation per element: 23% of se_resnet50's step) and then multiplies and sums full-size copies. Here one pass
 * over the planes, split between ND4J's threads, writes dx = dy * s and sums ds = sum over the plane of dy * x (in
 * double); the forward is the same single multiply per element as DL4J's, so its output is bit for bit the same.
 */
final class ChannelScaleVertex extends ParameterlessVertexImpl {
    private static final long serialVersionUID = 1L;

    /** The vertex that takes DL4J's {@code stock} one's place in its graph, with the same inputs and outputs. */
    ChannelScaleVertex(ComputationGraph graph, GraphVertex stock, DataType dataType) {
        super(graph, stock.getVertexName(), stock.getVertexIndex(), dataType);
        setInputVertices(stock.getInputVertices());
        setOutputVertices(stock.getOutputVertices());
    }

    /** Whether the Java passes take these inputs (else ND4J's broadcasting ops, as DL4J's vertex, less the tiling). */
    static boolean handles(INDArray x, INDArray s) {
        return x.rank() == 4 && s.rank() == 4 && x.dataType() == DataType.FLOAT && s.dataType() == DataType.FLOAT
                && s.size(0) == x.size(0) && s.size(1) == x.size(1) && s.size(2) == 1 && s.size(3) == 1
                && x.length() < Integer.MAX_VALUE;
    }

    @Override
    public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
        if (!canDoForward()) {
            throw new IllegalStateException("Cannot do forward pass: inputs not set");
        }
        INDArray x = ActivationPasses.contiguous(inputs[0]), s = ActivationPasses.contiguous(inputs[1]);
        if (!handles(x, s)) {
            return workspaceMgr.leverageTo(ArrayType.ACTIVATIONS, x.mul(s));
        }
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, x.shape(), 'c');
        scale(x, s, out);
        return out;
    }

    @Override
    public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
        if (!canDoBackward()) {
            throw new IllegalStateException("Cannot do backward pass: errors not set");
        }
        INDArray x = ActivationPasses.contiguous(inputs[0]), s = ActivationPasses.contiguous(inputs[1]), dy = ActivationPasses.contiguous(epsilon);
        if (!handles(x, s)) {
            return new Pair<>(null, new INDArray[] {workspaceMgr.leverageTo(ArrayType.ACTIVATION_GRAD, dy.mul(s)),
                    workspaceMgr.leverageTo(ArrayType.ACTIVATION_GRAD, dy.mul(x).sum(true, 2, 3))});
        }
        INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, x.shape(), 'c');
        INDArray ds = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, s.shape(), 'c');
        gradients(x, s, dy, dx, ds);
        return new Pair<>(null, new INDArray[] {dx, ds});
    }

    /** out = x * s, with s broadcast over each plane of x. */
    static void scale(INDArray x, INDArray s, INDArray out) {
        int planes = (int) (x.size(0) * x.size(1)), plane = (int) (x.length() / planes);
        FloatBuffer xs = x.data().asNioFloat(), outs = out.data().asNioFloat();
        int xAt = (int) x.offset(), outAt = (int) out.offset();
        float[] gates = values(s, planes);
        ActivationPasses.forEach(planes, plane, (from, to) -> {
            float[] xv = ActivationPasses.scratch(0, plane);
            for (int p = from; p < to; p++) {
                float g = gates[p];
                xs.get(xAt + p * plane, xv, 0, plane);
                for (int k = 0; k < plane; k++) {
                    xv[k] *= g;
                }
                outs.put(outAt + p * plane, xv, 0, plane);
            }
        });
    }

    /** dx = dy * s (s broadcast over each plane), ds = the sum over each plane of dy * x (in double). */
    static void gradients(INDArray x, INDArray s, INDArray dy, INDArray dx, INDArray ds) {
        int planes = (int) (x.size(0) * x.size(1)), plane = (int) (x.length() / planes);
        FloatBuffer xs = x.data().asNioFloat(), dys = dy.data().asNioFloat(), dxs = dx.data().asNioFloat();
        int xAt = (int) x.offset(), dyAt = (int) dy.offset(), dxAt = (int) dx.offset();
        float[] gates = values(s, planes);
        float[] gateGradients = new float[planes];
        ActivationPasses.forEach(planes, plane, (from, to) -> {
            float[] xv = ActivationPasses.scratch(0, plane), gv = ActivationPasses.scratch(1, plane);
            for (int p = from; p < to; p++) {
                float g = gates[p];
                xs.get(xAt + p * plane, xv, 0, plane);
                dys.get(dyAt + p * plane, gv, 0, plane);
                double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                int k = 0;
                for (; k + 3 < plane; k += 4) {
                    s0 += (double) gv[k] * xv[k];
                    s1 += (double) gv[k + 1] * xv[k + 1];
                    s2 += (double) gv[k + 2] * xv[k + 2];
                    s3 += (double) gv[k + 3] * xv[k + 3];
                }
                for (; k < plane; k++) {
                    s0 += (double) gv[k] * xv[k];
                }
                gateGradients[p] = (float) ((s0 + s1) + (s2 + s3));
                for (k = 0; k < plane; k++) {
                    gv[k] *= g;
                }
                dxs.put(dxAt + p * plane, gv, 0, plane);
            }
        });
        ds.data().asNioFloat().put((int) ds.offset(), gateGradients, 0, planes);
    }

    private static float[] values(INDArray contiguous, int length) {
        float[] values = new float[length];
        contiguous.data().asNioFloat().get((int) contiguous.offset(), values, 0, length);
        return values;
    }


    @Override
    public String toString() {
        return "ChannelScaleVertex(id=" + vertexIndex + ",name=\"" + vertexName + "\")";
    }
}
