package org.sparkzoo.jobs.train;

import org.deeplearning4j.spark.api.stats.SparkTrainingStats;
import org.deeplearning4j.spark.stats.EventStats;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a round's time went, from dl4j-spark's training stats: it keeps every event since the start, so this
 * remembers how many of each kind it has seen and sums only the new ones.
 */
final class RoundTimes {
    /** Our name -> dl4j-spark's stats key; worker-side times are summed over workers. */
    static final Map<String, String> KEYS = new LinkedHashMap<>();

    static {
        KEYS.put("broadcast", "ParameterAveragingMasterBroadcastCreateTimesMs");
        KEYS.put("aggregate", "ParameterAveragingMasterAggregateTimesMs");
        KEYS.put("process_params", "ParameterAveragingMasterProcessParamsUpdaterTimesMs");
        KEYS.put("model_rebuild", "WorkerFlatMapGetInitialModelTimeMs");
        KEYS.put("broadcast_fetch", "ParameterAveragingWorkerBroadcastGetValueTimeMs");
        KEYS.put("data_load", "WorkerFlatMapDataSetGetTimesMs");
        KEYS.put("fit", "WorkerFlatMapProcessMiniBatchTimesMs");
    }

    /** The categories timed on the workers (summed over them by dl4j-spark). */
    static final java.util.Set<String> WORKER_SIDE = java.util.Set.of("model_rebuild", "broadcast_fetch", "data_load", "fit");

    private final Map<String, Integer> seen = new HashMap<>();

    /** Seconds per category for the events added since the last call. */
    Map<String, Double> next(SparkTrainingStats stats) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : KEYS.entrySet()) {
            List<EventStats> events = events(stats, e.getValue());
            int from = seen.getOrDefault(e.getKey(), 0);
            double ms = 0;
            for (int i = from; i < events.size(); i++) {
                ms += events.get(i).getDurationMs();
            }
            seen.put(e.getKey(), events.size());
            out.put(e.getKey(), ms / 1000.0);
        }
        return out;
    }

    /** Minibatches fitted per executor JVM, from the fit events of dl4j-spark's stats (the stock master's path). */
    static Map<String, Long> minibatchesPerJvm(SparkTrainingStats stats) {
        Map<String, Long> perJvm = new java.util.TreeMap<>();
        for (EventStats e : events(stats, KEYS.get("fit"))) {
            perJvm.merge(e.getMachineID() + "/" + e.getJvmID(), 1L, Long::sum);
        }
        return perJvm;
    }

    static List<EventStats> events(SparkTrainingStats stats, String key) {
        for (SparkTrainingStats s = stats; s != null; s = s.getNestedTrainingStats()) {
            if (s.getKeySet().contains(key)) {
                List<EventStats> v = s.getValue(key);
                return v == null ? List.of() : v;
            }
        }
        return List.of();
    }
}
