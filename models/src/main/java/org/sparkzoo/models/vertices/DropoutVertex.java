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
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Inverted dropout (Srivastava et al. 2014): while training, each unit is zeroed with probability p and otherwise
 * scaled by 1/(1-p); at inference it is the identity. Unlike DL4J's DropoutLayer, which draws from ND4J's global
 * RNG (in no checkpoint, shared by the threads of a local-mode run), the mask depends only on (seed, worker
 * stream, epoch, iteration, vertex name) ({@link Masks}): a resumed run and a gradient check see the same masks.
 */
public class DropoutVertex extends DropRateVertex {
    private static final long serialVersionUID = 1L;

    public DropoutVertex(@JsonProperty("dropProbability") double dropProbability) {
        super(dropProbability);
    }

    /**
     * The mask salt of the dropout vertex {@code vertexName}: a 64-bit hash of the name (unique in a graph) in
     * [2^62, 2^63), a range that no drop-path salt (a vertex index, or FractalNet's negative global salt) reaches.
     */
    static long salt(String vertexName) {
        long h = 0xCBF29CE484222325L; // FNV-1a
        for (byte b : vertexName.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xFF)) * 0x100000001B3L;
        }
        return (h & Long.MAX_VALUE) | (1L << 62);
    }

    @Override
    public DropoutVertex clone() {
        return new DropoutVertex(getDropProbability());
    }

    @Override
    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(ComputationGraph graph, String name, int idx,
                                                                      INDArray paramsView, boolean initializeParams,
                                                                      DataType networkDatatype) {
        return new Impl(graph, name, idx, getDropProbability(), networkDatatype);
    }

    @Override
    public MemoryReport getMemoryReport(InputType... inputTypes) {
        long units = inputTypes[0].arrayElementsPerExample();
        return new LayerMemoryReport.Builder(null, DropoutVertex.class, inputTypes[0], inputTypes[0])
                .standardMemory(0, 0).workingMemory(0, 0, 0, units).cacheMemory(0, 0).build(); // the training mask
    }

    /** A mask of {@code shape} with entries 1/(1-p) (probability 1-p) or 0, in the given type. */
    static INDArray scaledMask(SplittableRandom random, long[] shape, double dropProbability, DataType type) {
        double keep = 1.0 - dropProbability;
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("dropout over " + n + " units per mini-batch is more than a mask array holds; use a smaller batch");
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            if (type == DataType.DOUBLE) {
                double[] m = new double[(int) n];
                for (int i = 0; i < m.length; i++) {
                    m[i] = random.nextDouble() < keep ? 1.0 / keep : 0.0;
                }
                return Nd4j.createFromArray(m).reshape('c', shape);
            }
            float[] m = new float[(int) n];
            float scale = (float) (1.0 / keep);
            for (int i = 0; i < m.length; i++) {
                m[i] = random.nextDouble() < keep ? scale : 0f;
            }
            return Nd4j.createFromArray(m).reshape('c', shape).castTo(type);
        }
    }

    static final class Impl extends MaskedVertexImpl {
        private static final long serialVersionUID = 1L;
        private final double dropProbability;
        private final long salt;
        /** The forward pass's mask, applied again to epsilon; null when nothing was dropped. */
        private INDArray mask;

        Impl(ComputationGraph graph, String name, int index, double dropProbability, DataType dataType) {
            super(graph, name, index, dataType);
            this.dropProbability = dropProbability;
            this.salt = salt(name);
        }

        @Override
        public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
            INDArray x = inputs[0];
            mask = null;
            if (!training || dropProbability == 0) {
                return workspaceMgr.dup(ArrayType.ACTIVATIONS, x);
            }
            mask = scaledMask(Masks.random(graph, workerStream(), salt), x.shape(), dropProbability, x.dataType());
            INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, x.dataType(), x.shape(), 'c');
            Nd4j.getExecutioner().exec(new MulOp(x, mask, out));
            return out;
        }

        @Override
        public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
            if (mask == null) {
                return new Pair<>(null, new INDArray[]{workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, epsilon)});
            }
            INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, epsilon.dataType(), epsilon.shape(), 'c');
            Nd4j.getExecutioner().exec(new MulOp(epsilon, mask, out));
            return new Pair<>(null, new INDArray[]{out});
        }

        @Override
        public void clear() {
            super.clear();
            mask = null;
        }

        @Override
        public String toString() {
            return "DropoutVertex(name=" + vertexName + ", p=" + dropProbability + ")";
        }
    }
}
