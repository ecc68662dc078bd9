package org.sparkzoo.jobs.train;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** One averaging round as train-job reports it: its progress line and its metrics row. */
final class RoundRecord {
    final int epoch;
    final int epochs;
    final int round;
    final int roundsPerEpoch;
    final long globalRound;
    /** Cross-entropy of the workers' minibatches, without the regularization penalty (as torchvision prints it). */
    final double loss;
    final double penalty;
    final double lr;
    /** Images the workers fitted. */
    final long images;
    final double seconds;
    /** One worker's time in minibatch fitting (NaN when it was not measured). */
    final double fitSeconds;
    final int workers;
    /** What sparkzoo's round measured (null with stock dl4j-spark). */
    final RoundTrainingMaster.RoundWork work;
    final double etaSeconds;
    /** dl4j-spark's breakdown of the round in seconds, when its training stats are on. */
    final Map<String, Double> stages;

    RoundRecord(int epoch, int epochs, int round, int roundsPerEpoch, long globalRound, double loss, double penalty,
                double lr, long images, double seconds, int workers, RoundTrainingMaster.RoundWork work, double etaSeconds,
                Map<String, Double> stages) {
        this.stages = stages;
        this.epoch = epoch;
        this.epochs = epochs;
        this.round = round;
        this.roundsPerEpoch = roundsPerEpoch;
        this.globalRound = globalRound;
        this.loss = loss;
        this.penalty = penalty;
        this.lr = lr;
        this.images = images;
        this.seconds = seconds;
        this.workers = workers;
        this.work = work;
        this.fitSeconds = work != null ? work.fitSeconds / workers : stages.getOrDefault("fit", Double.NaN);
        this.etaSeconds = etaSeconds;
    }

    /** The round's share outside minibatch fitting: broadcast, task start, averaging, data loading. */
    double overheadShare() {
        return Double.isNaN(fitSeconds) ? Double.NaN : Math.max(0, 1 - fitSeconds / seconds);
    }

    String line() {
        double overhead = overheadShare();
        return String.format(Locale.ROOT, "epoch %d/%d round %d/%d loss %.4f (+%.4f penalty) lr %s %.0f img/s averaging+overhead %s eta %s",
                epoch, epochs, round, roundsPerEpoch, loss, penalty, Trainer.fmt(lr), images / seconds,
                Double.isNaN(overhead) ? "n/a" : String.format(Locale.ROOT, "%.0f%%", 100 * overhead), Trainer.duration(etaSeconds));
    }

    Map<String, Object> metrics() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "round");
        m.put("epoch", epoch);
        m.put("round", round);
        m.put("global_round", globalRound);
        m.put("loss", loss);
        m.put("penalty", penalty);
        m.put("lr", lr);
        m.put("images", images);
        m.put("seconds", seconds);
        m.put("images_per_second", images / seconds);
        m.put("seconds_fit_per_worker", fitSeconds);
        m.put("overhead_share", overheadShare());
        if (work != null) {
            // where the rest of the round went: worker times per worker, driver times as they are
            m.put("seconds_setup_per_worker", work.setupSeconds / workers);
            m.put("seconds_load_per_worker", work.loadSeconds / workers);
            m.put("seconds_broadcast", work.broadcastSeconds);
            m.put("seconds_job", work.jobSeconds); // the tasks, their results to the driver, the averaging
            m.put("slices_prefetched", work.prefetched);
            m.put("updater_averaged", work.updaterAveraged);
        }
        stages.forEach((k, v) -> m.put("seconds_" + k, v));
        return m;
    }
}
