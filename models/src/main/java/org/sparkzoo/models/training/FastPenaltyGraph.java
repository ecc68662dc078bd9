package org.sparkzoo.models.training;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * A ComputationGraph whose weight-decay penalty is {@link Losses#penalty}'s: DL4J adds the penalty to the score of
 * every minibatch it fits (it is not part of the gradient, which the regularizations apply in the updater), and its
 * own sum costs ResNet-50 at 32x32 35-39 ms a minibatch on one core. Everything else is DL4J's; saved models are plain
 * ComputationGraphs (the class is not part of the configuration).
 */
public class FastPenaltyGraph extends ComputationGraph {
    private static final long serialVersionUID = 1L;

    public FastPenaltyGraph(ComputationGraphConfiguration configuration) {
        super(configuration);
    }

    @Override
    public double calcRegularizationScore(boolean backpropParamsOnly) {
        return Losses.penalty(this, backpropParamsOnly);
    }
}
