package org.sparkzoo.models.training;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.Map;
import java.util.Objects;

/**
 * SGD with (heavy-ball) momentum as {@code torch.optim.SGD(lr, momentum)} computes it, which DL4J lacks (its
 * {@code Nesterovs} is the Nesterov variant): v = mu v + g; w -= lr v. The velocity holds no learning rate, so a
 * learning-rate change scales the whole step at once, as in torch. State: v, one value per parameter.
 */
public final class SgdMomentum implements IUpdater {
    private static final long serialVersionUID = 1L;
    /** Name of the velocity in the updater state. */
    public static final String VELOCITY = "V";

    private double learningRate;
    private ISchedule learningRateSchedule;
    private double momentum;

    /** For JSON: lr 0.1, momentum 0.9 (torchvision's recipe). */
    public SgdMomentum() {
        this(0.1, 0.9);
    }

    public SgdMomentum(double learningRate, double momentum) {
        if (!(momentum >= 0 && momentum < 1) || !(learningRate >= 0)) {
            throw new IllegalArgumentException("SGD needs lr >= 0 and momentum in [0, 1), got lr " + learningRate
                    + " momentum " + momentum);
        }
        this.learningRate = learningRate;
        this.momentum = momentum;
    }

    public double getMomentum() {
        return momentum;
    }

    @Override
    public long stateSize(long numParams) {
        return numParams;
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        Updater u = new Updater(this);
        u.setStateViewArray(viewArray, viewArray.shape(), viewArray.ordering(), initializeViewArray);
        return u;
    }

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        Updater u = new Updater(this);
        u.setState(updaterState, initializeStateArrays);
        return u;
    }

    @Override
    public SgdMomentum clone() {
        SgdMomentum c = new SgdMomentum(learningRate, momentum);
        c.learningRateSchedule = learningRateSchedule == null ? null : learningRateSchedule.clone();
        return c;
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        return learningRateSchedule != null ? learningRateSchedule.valueAt(iteration, epoch) : learningRate;
    }

    @Override
    public boolean hasLearningRate() {
        return true;
    }

    @Override
    public void setLrAndSchedule(double lr, ISchedule lrSchedule) {
        this.learningRate = lr;
        this.learningRateSchedule = lrSchedule;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof SgdMomentum)) {
            return false;
        }
        SgdMomentum s = (SgdMomentum) o;
        return s.learningRate == learningRate && s.momentum == momentum && Objects.equals(s.learningRateSchedule, learningRateSchedule);
    }

    @Override
    public int hashCode() {
        return Objects.hash(learningRate, momentum, learningRateSchedule);
    }

    @Override
    public String toString() {
        return "SgdMomentum(lr=" + learningRate + ", momentum=" + momentum + ")";
    }

    /** The running part: the velocity lives in DL4J's updater state view, so it is saved, averaged and resumed. */
    static final class Updater implements GradientUpdater<SgdMomentum> {
        private final SgdMomentum config;
        private INDArray v;

        Updater(SgdMomentum config) {
            this.config = config;
        }

        @Override
        public SgdMomentum getConfig() {
            return config;
        }

        @Override
        public void setState(Map<String, INDArray> stateMap, boolean initialize) {
            if (!stateMap.containsKey(VELOCITY) || stateMap.size() != 1) {
                throw new IllegalStateException("SGD momentum state must hold exactly " + VELOCITY + ", got " + stateMap.keySet());
            }
            v = stateMap.get(VELOCITY);
            if (initialize) {
                v.assign(0);
            }
        }

        @Override
        public Map<String, INDArray> getState() {
            return Map.of(VELOCITY, v);
        }

        @Override
        public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
            if (initialize) {
                viewArray.assign(0);
            }
            // the velocity must stay a view of the state array (which is what dl4j-spark averages and checkpoints save)
            v = Shape.newShapeNoCopy(viewArray, gradientShape, gradientOrder == 'f');
            if (v == null) {
                throw new IllegalStateException("cannot view the updater state " + java.util.Arrays.toString(viewArray.shape())
                        + " as the gradient's shape " + java.util.Arrays.toString(gradientShape));
            }
        }

        @Override
        public void applyUpdater(INDArray gradient, int iteration, int epoch) {
            if (v == null) {
                throw new IllegalStateException("SGD momentum updater used before its state was set");
            }
            double lr = config.getLearningRate(iteration, epoch);
            v.muli(config.momentum).addi(gradient);
            gradient.assign(v).muli(lr);
        }
    }
}
