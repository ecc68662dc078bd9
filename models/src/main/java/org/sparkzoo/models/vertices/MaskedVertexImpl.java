package org.sparkzoo.models.vertices;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;

/** A parameterless runtime vertex that draws drop masks: it keeps its network's worker stream ({@link Masks}). */
abstract class MaskedVertexImpl extends ParameterlessVertexImpl implements Masks.Drawing {
    private static final long serialVersionUID = 1L;
    private long workerStream;

    MaskedVertexImpl(ComputationGraph graph, String name, int index, DataType dataType) {
        super(graph, name, index, dataType);
    }

    @Override
    public void setWorkerStream(long stream) {
        this.workerStream = stream;
    }

    @Override
    public long workerStream() {
        return workerStream;
    }
}
