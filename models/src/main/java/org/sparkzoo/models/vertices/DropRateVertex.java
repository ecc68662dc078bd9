package org.sparkzoo.models.vertices;

/**
 * What the zoo's single-input, parameterless drop vertices share as configurations: the drop probability (checked
 * once) and equality by class and rate, on top of {@link ParameterlessVertex}. Subclasses say how
 * they instantiate and how much working memory their masks take.
 */
public abstract class DropRateVertex extends ParameterlessVertex {
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
}
