package org.sparkzoo.models.vertices;

import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;

/**
 * What the zoo's single-input, parameterless drop vertices share as configurations: the drop probability (checked
 * once), no parameters, one input, the input's type as output, equality by class and rate. Subclasses say how
 * they instantiate and how much working memory their masks take.
 */
public abstract class DropRateVertex extends GraphVertex {
    private static final long serialVersionUID = 1L;

    private final double dropProbability;

    protected DropRateVertex(double dropProbability) {
        if (!(dropProbability >= 0 && dropProbability < 1)) {
            throw new IllegalArgumentException("drop probability must be in [0, 1), got " + dropProbability);
        }
        this.dropProbability = dropProbability;
    }

    public double getDropProbability() {
        return dropProbability;
    }

    @Override
    public abstract DropRateVertex clone();

    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == getClass() && ((DropRateVertex) o).dropProbability == dropProbability;
    }

    @Override
    public int hashCode() {
        return Double.hashCode(dropProbability) * 31 + getClass().getName().hashCode();
    }

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
