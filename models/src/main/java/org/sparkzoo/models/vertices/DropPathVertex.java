package org.sparkzoo.models.vertices;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.SplittableRandom;

/**
 * Drop-path on one residual branch (stochastic depth, Huang et al. 2016): while training, each example's branch
 * output is zeroed with probability p and otherwise scaled by 1/(1-p); at inference it is the identity. This is
 * the "inverted" form of the paper's rule (the paper multiplies by the survival probability at test time instead):
 * the expected output is the same and inference needs no rescaling. Masks depend only on (seed, worker stream,
 * epoch, iteration, vertex) ({@link Masks}), so a gradient check sees a fixed mask; p = 0 makes the vertex an identity.
 */
public class DropPathVertex extends DropRateVertex {
    private static final long serialVersionUID = 1L;

    public DropPathVertex(@JsonProperty("dropProbability") double dropProbability) {
        super(dropProbability);
    }

    @Override
    public DropPathVertex clone() {
        return new DropPathVertex(getDropProbability());
    }

    @Override
    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(ComputationGraph graph, String name, int idx,
                                                                      INDArray paramsView, boolean initializeParams,
                                                                      DataType networkDatatype) {
        return new Impl(graph, name, idx, getDropProbability(), networkDatatype);
    }

    @Override
    public MemoryReport getMemoryReport(InputType... inputTypes) {
        return new LayerMemoryReport.Builder(null, DropPathVertex.class, inputTypes[0], inputTypes[0])
                .standardMemory(0, 0).workingMemory(0, 0, 0, 0).cacheMemory(0, 0).build();
    }

    /** Per-example scale factors in {0, 1/(1-p)}, or null when nothing is dropped. */
    static INDArray exampleScales(SplittableRandom random, long examples, double dropProbability, DataType type) {
        double keep = 1.0 - dropProbability;
        double[] scale = new double[(int) examples];
        for (int i = 0; i < scale.length; i++) {
            scale[i] = random.nextDouble() < keep ? 1.0 / keep : 0.0;
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return Nd4j.createFromArray(scale).castTo(type);
        }
    }

    /** Multiplies each example (dimension 0) of x by its scale. */
    static INDArray scaleExamples(INDArray x, INDArray scales, INDArray out) {
        Nd4j.getExecutioner().exec(new BroadcastMulOp(x, scales, out, 0));
        return out;
    }

    static final class Impl extends MaskedVertexImpl {
        private static final long serialVersionUID = 1L;
        private final double dropProbability;
        private INDArray scales;

        Impl(ComputationGraph graph, String name, int index, double dropProbability, DataType dataType) {
            super(graph, name, index, dataType);
            this.dropProbability = dropProbability;
        }

        @Override
        public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
            INDArray x = inputs[0];
            scales = null;
            if (!training || dropProbability == 0) {
                return workspaceMgr.dup(ArrayType.ACTIVATIONS, x);
            }
            scales = exampleScales(Masks.random(graph, workerStream(), vertexIndex), x.size(0), dropProbability, x.dataType());
            return scaleExamples(x, scales, workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, x.dataType(), x.shape(), 'c'));
        }

        @Override
        public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
            if (scales == null) {
                return new Pair<>(null, new INDArray[]{workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, epsilon)});
            }
            INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, epsilon.dataType(), epsilon.shape(), 'c');
            return new Pair<>(null, new INDArray[]{scaleExamples(epsilon, scales, out)});
        }

        @Override
        public String toString() {
            return "DropPathVertex(name=" + vertexName + ", p=" + dropProbability + ")";
        }
    }
}
