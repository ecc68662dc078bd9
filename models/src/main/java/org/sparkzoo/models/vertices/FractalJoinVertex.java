package org.sparkzoo.models.vertices;

import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * FractalNet's join (Larsson et al. 2017): the element-wise mean of the columns that meet here, with drop-path
 * while training. Per mini-batch the network is either in <b>local</b> mode (each input of each join is dropped
 * with probability p, at least one survives) or, with probability {@code globalFraction}, in <b>global</b> mode
 * (one column, the same for every join of the network, is kept; joins that column does not pass through keep all
 * inputs, their output is not used). The mean is over the surviving inputs, so inference (all inputs, no
 * dropping) needs no rescaling. The draw depends only on (seed, worker stream, epoch, iteration, vertex)
 * ({@link Masks}): fixed within a step.
 */
public class FractalJoinVertex extends GraphVertex {
    private static final long serialVersionUID = 1L;
    /** Salt shared by all joins of a network for the local/global and column choice. */
    private static final long GLOBAL_SALT = -0x1F2E3D4CL;

    private final int[] columns;
    private final int numColumns;
    private final double dropProbability;
    private final double globalFraction;

    /**
     * @param columns         the column index (0 = shallowest) of each input, in input order
     * @param numColumns      columns of the fractal (C)
     * @param dropProbability local drop-path probability per input, 0 = plain mean
     * @param globalFraction  fraction of mini-batches trained in global drop-path mode (the paper uses 0.5)
     */
    public FractalJoinVertex(@JsonProperty("columns") int[] columns, @JsonProperty("numColumns") int numColumns,
                             @JsonProperty("dropProbability") double dropProbability,
                             @JsonProperty("globalFraction") double globalFraction) {
        if (!(dropProbability >= 0 && dropProbability < 1) || !(globalFraction >= 0 && globalFraction <= 1)) {
            throw new IllegalArgumentException("drop probability must be in [0,1) and global fraction in [0,1]");
        }
        this.columns = columns.clone();
        this.numColumns = numColumns;
        this.dropProbability = dropProbability;
        this.globalFraction = globalFraction;
    }

    public int[] getColumns() {
        return columns.clone();
    }

    public int getNumColumns() {
        return numColumns;
    }

    public double getDropProbability() {
        return dropProbability;
    }

    public double getGlobalFraction() {
        return globalFraction;
    }

    @Override
    public FractalJoinVertex clone() {
        return new FractalJoinVertex(columns, numColumns, dropProbability, globalFraction);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof FractalJoinVertex)) {
            return false;
        }
        FractalJoinVertex v = (FractalJoinVertex) o;
        return Arrays.equals(columns, v.columns) && numColumns == v.numColumns
                && dropProbability == v.dropProbability && globalFraction == v.globalFraction;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(columns) * 31 + Double.hashCode(dropProbability) + 17 * numColumns;
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
        return Integer.MAX_VALUE;
    }

    @Override
    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(ComputationGraph graph, String name, int idx,
                                                                      INDArray paramsView, boolean initializeParams,
                                                                      DataType networkDatatype) {
        return new Impl(graph, name, idx, this, networkDatatype);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... inputs) throws InvalidInputTypeException {
        if (inputs.length != columns.length) {
            throw new InvalidInputTypeException("fractal join declared for " + columns.length + " columns got "
                    + inputs.length + " inputs");
        }
        for (InputType t : inputs) {
            if (!Arrays.equals(t.getShape(), inputs[0].getShape())) {
                throw new InvalidInputTypeException("fractal join inputs must have equal shapes: " + Arrays.toString(inputs));
            }
        }
        return inputs[0];
    }

    @Override
    public MemoryReport getMemoryReport(InputType... inputTypes) {
        return new LayerMemoryReport.Builder(null, FractalJoinVertex.class, inputTypes[0], inputTypes[0])
                .standardMemory(0, 0).workingMemory(0, 0, 0, 0).cacheMemory(0, 0).build();
    }

    /** Which inputs survive this step (training only). */
    boolean[] survivors(ComputationGraph graph, long workerStream, int vertexIndex) {
        boolean[] keep = new boolean[columns.length];
        SplittableRandom shared = Masks.random(graph, workerStream, GLOBAL_SALT);
        boolean global = shared.nextDouble() < globalFraction;
        int column = shared.nextInt(numColumns);
        if (global) {
            boolean onPath = false;
            for (int i = 0; i < columns.length; i++) {
                keep[i] = columns[i] == column;
                onPath |= keep[i];
            }
            if (!onPath) {
                Arrays.fill(keep, true);
            }
            return keep;
        }
        SplittableRandom local = Masks.random(graph, workerStream, vertexIndex);
        int kept = 0;
        for (int i = 0; i < keep.length; i++) {
            keep[i] = local.nextDouble() >= dropProbability;
            kept += keep[i] ? 1 : 0;
        }
        if (kept == 0) {
            keep[local.nextInt(keep.length)] = true;
        }
        return keep;
    }

    static final class Impl extends MaskedVertexImpl {
        private static final long serialVersionUID = 1L;
        private final FractalJoinVertex conf;
        private boolean[] kept;
        private int keptCount;

        Impl(ComputationGraph graph, String name, int index, FractalJoinVertex conf, DataType dataType) {
            super(graph, name, index, dataType);
            this.conf = conf;
        }

        @Override
        public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
            kept = new boolean[inputs.length];
            Arrays.fill(kept, true);
            if (training && conf.dropProbability > 0) {
                kept = conf.survivors(graph, workerStream(), vertexIndex);
            }
            keptCount = 0;
            INDArray mean = workspaceMgr.create(ArrayType.ACTIVATIONS, inputs[0].dataType(), inputs[0].shape(), 'c').assign(0);
            for (int i = 0; i < inputs.length; i++) {
                if (kept[i]) {
                    mean.addi(inputs[i]);
                    keptCount++;
                }
            }
            return mean.divi(keptCount);
        }

        @Override
        public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
            INDArray[] grads = new INDArray[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                if (kept[i]) {
                    grads[i] = workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, epsilon).divi(keptCount);
                } else {
                    // explicitly zeroed: workspace memory is reused between passes
                    grads[i] = workspaceMgr.create(ArrayType.ACTIVATION_GRAD, epsilon.dataType(), epsilon.shape(), 'c').assign(0);
                }
            }
            return new Pair<>(null, grads);
        }

        @Override
        public String toString() {
            return "FractalJoinVertex(name=" + vertexName + ", columns=" + Arrays.toString(conf.columns) + ")";
        }
    }
}
