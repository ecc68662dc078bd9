package org.sparkzoo.models.vertices;

import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;

/**
 * The configuration half of a vertex with one input, no parameters and the input's type as its output (the drop
 * vertices, eval's Grad-CAM probe); {@link ParameterlessVertexImpl} is the runtime half they share.
 */
public abstract class ParameterlessVertex extends GraphVertex {
    private static final long serialVersionUID = 1L;

    @Override
    public long numParams(boolean backprop) {
        return 0;
    }

    @Override
    public int minVertexInputs() {
        return 1;
    }

    @Override
    public int maxVertexInputs() {
        return 1;
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... inputs) {
        return inputs[0];
    }
}
