package org.sparkzoo.jobs.checkpoint;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a checkpoint holds besides the network and its updater state: where training stands, how it was set up,
 * and which data it belongs to. Serialized as JSON inside the checkpoint zip ({@value Checkpoints#STATE_ENTRY}).
 */
public final class TrainState {
    public String model;
    public int imageSize;
    public int channels;
    public int numClasses;
    /** The class index (wnids by label) the network's outputs mean. */
    public List<String> classes = new ArrayList<>();
    public String manifestId;
    /** Epochs completed. */
    public int epoch;
    /** Rounds completed within {@link #epoch} (0 at an epoch boundary). */
    public int round;
    /** Minibatch slices of {@link #epoch} already trained on: where a resumed run continues, whatever its workers. */
    public int slice;
    /** Rounds completed since the start of training. */
    public long globalRound;
    public int workers;
    public long seed;
    public double lr;
    public double lastLoss = Double.NaN;
    public double bestTop1 = -1;
    public Map<String, Object> options = new LinkedHashMap<>();
    public long savedAtMillis;
}
