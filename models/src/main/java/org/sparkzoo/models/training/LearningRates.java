package org.sparkzoo.models.training;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.learning.config.IUpdater;

import java.util.ArrayList;
import java.util.List;

/**
 * Sets a network's learning rate in place. DL4J's {@code ComputationGraph.setLearningRate} rebuilds the whole
 * updater afterwards (its blocks group layers of equal updater settings, and a rate given to some layers only
 * can regroup them): 0.15-0.3 s for ResNet-50 on every averaging round, on the driver and on each worker. When
 * every layer with a rate has the same one before and after, the grouping cannot change, and the updaters read
 * the rate from these very configuration objects at each step, so writing it there is the whole change.
 */
public final class LearningRates {
    private LearningRates() {
    }

    public static void set(ComputationGraph net, double lr) {
        List<IUpdater> updaters = new ArrayList<>();
        double shared = Double.NaN;
        boolean uniform = true;
        for (Layer layer : net.getLayers()) {
            if (layer.conf() != null && layer.conf().getLayer() instanceof BaseLayer) {
                IUpdater u = ((BaseLayer) layer.conf().getLayer()).getIUpdater();
                if (u != null && u.hasLearningRate()) {
                    double now = u.getLearningRate(0, 0);
                    uniform &= Double.isNaN(shared) || now == shared;
                    shared = now;
                    updaters.add(u);
                }
            }
        }
        if (!uniform) {
            net.setLearningRate(lr); // per-layer rates: DL4J regroups the updater blocks
            return;
        }
        for (IUpdater u : updaters) {
            u.setLrAndSchedule(lr, null);
        }
    }
}
