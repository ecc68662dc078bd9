package org.sparkzoo.jobs.explain;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkzoo.models.vertices.ParameterlessVertex;
import org.sparkzoo.models.vertices.ParameterlessVertexImpl;

/**
 * An identity vertex that keeps the gradient flowing back through it: inserted after the feature maps A, it
 * gives Grad-CAM dScore/dA from DL4J's own backprop. DL4J clears every vertex's epsilon after a backward pass
 * and has no input-gradient API in 1.0.0-M2.1, hence a vertex of our own. Lives only in explanation copies of a
 * network, never in a checkpoint.
 */
public final class Probe extends ParameterlessVertex {
    private static final long serialVersionUID = 1L;

    @Override
    public Probe clone() {
        return new Probe();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Probe;
    }

    @Override
    public int hashCode() {
        return Probe.class.hashCode();
    }

    @Override
    public MemoryReport getMemoryReport(InputType... inputs) {
        return new LayerMemoryReport.Builder(null, Probe.class, inputs[0], inputs[0]).standardMemory(0, 0)
                .workingMemory(0, 0, 0, 0).cacheMemory(0, 0).build();
    }

    @Override
    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(ComputationGraph graph, String name, int idx, INDArray paramsView,
                                                                      boolean initializeParams, DataType networkDatatype) {
        return new Impl(graph, name, idx, networkDatatype);
    }

    /** The runtime vertex: passes activations and gradients through unchanged and keeps a copy of the last gradient. */
    public static final class Impl extends ParameterlessVertexImpl {
        private static final long serialVersionUID = 1L;
        private INDArray gradient;

        Impl(ComputationGraph graph, String name, int index, DataType dataType) {
            super(graph, name, index, dataType);
        }

        /** dScore/d(feature maps) of the last backward pass, [N, K, h, w]. */
        public INDArray gradient() {
            return gradient;
        }

        @Override
        public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
            return workspaceMgr.dup(ArrayType.ACTIVATIONS, inputs[0]);
        }

        @Override
        public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
            gradient = epsilon.detach();
            return new Pair<>(null, new INDArray[]{workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, epsilon)});
        }

        @Override
        public String toString() {
            return "Probe(" + vertexName + ")";
        }
    }
}
