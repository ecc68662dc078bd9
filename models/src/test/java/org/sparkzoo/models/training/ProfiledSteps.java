package org.sparkzoo.models.training;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.profiler.OpProfiler;

import java.util.function.Supplier;

/** Training steps of one layer or vertex under ND4J's op profiler, for the tests that count the native ops a step runs. */
final class ProfiledSteps {
    private ProfiledSteps() {
    }

    /** Runs {@code body} with ND4J's op profiler counting, and puts into {@code count[0]} how often it ran {@code op}. */
    static <T> T counting(String op, long[] count, Supplier<T> body) {
        OpExecutioner executioner = Nd4j.getExecutioner();
        OpExecutioner.ProfilingMode before = executioner.getProfilingMode();
        OpProfiler.getInstance().reset();
        executioner.setProfilingMode(OpExecutioner.ProfilingMode.OPERATIONS);
        try {
            T result = body.get();
            count[0] = OpProfiler.getInstance().getOpCounter().getCount(op);
            return result;
        } finally {
            executioner.setProfilingMode(before);
        }
    }

    /**
     * One training step of {@code layer} on {@code x}, without workspaces: forward, then backward with a fixed random
     * output gradient; returns the parameter gradient and a copy of the input gradient, and counts {@code op}.
     */
    static Pair<Gradient, INDArray> layerStep(Layer layer, INDArray x, String op, long[] count) {
        return counting(op, count, () -> {
            LayerWorkspaceMgr none = LayerWorkspaceMgr.noWorkspaces();
            layer.setInput(x, none);
            INDArray out = layer.activate(true, none);
            INDArray dy = Nd4j.rand(12345, out.shape()).castTo(DataType.FLOAT);
            Pair<Gradient, INDArray> result = layer.backpropGradient(dy, none);
            return new Pair<>(result.getFirst(), result.getSecond().dup());
        });
    }
}
