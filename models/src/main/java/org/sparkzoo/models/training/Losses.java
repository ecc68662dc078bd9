package org.sparkzoo.models.training;

import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * DL4J's {@code score()} is the data loss (the mean cross-entropy, plus the weighted auxiliary losses where a model
 * has auxiliary heads) <em>plus</em> the weight-decay penalty sum 0.5 c ||w||^2 at the parameters it was computed
 * at. torchvision reports the data loss alone; these take the two apart.
 */
public final class Losses {
    private Losses() {
    }

    /** The penalty DL4J adds to the score, at the network's current parameters (0 without weight decay). */
    public static double penalty(ComputationGraph net) {
        return net.calcRegularizationScore(true);
    }

    /**
     * {@code score} without the penalty. Exact when {@code score} was computed at the network's current parameters
     * ({@code net.score(dataSet, false)}, or after {@code computeGradientAndScore}); after a fit step, or for an
     * averaged network with the mean score of its workers, the parameters moved by a few updates since, and the
     * result is off by the penalty's change over those steps (tiny next to the loss: lr x c x ||w||^2 per step).
     */
    public static double dataLoss(double score, ComputationGraph net) {
        return score - penalty(net);
    }
}
