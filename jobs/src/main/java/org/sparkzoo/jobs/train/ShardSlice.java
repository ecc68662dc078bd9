package org.sparkzoo.jobs.train;

import org.sparkzoo.dataprep.Manifest;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * A run of consecutive rows of one Parquet shard, named by a string that dl4j-spark can carry as a "path":
 * {@code <shard-uri>#<offset>+<count>}.
 *
 * <p>dl4j-spark's {@code fitPaths} lets a worker fit at most {@code averagingFrequency} minibatches per round and
 * drops the rest of what it loaded (STACK.md), and its re-batching loses examples when one loaded object holds
 * more than two minibatches. Train-job therefore cuts slices of at most one minibatch and hands each worker at
 * most {@code averagingFrequency} of them per round, so every image of an epoch is trained on exactly once.
 */
public final class ShardSlice {
    public final String shard;
    public final long offset;
    public final int count;

    public ShardSlice(String shard, long offset, int count) {
        this.shard = shard;
        this.offset = offset;
        this.count = count;
    }

    public String path() {
        return shard + "#" + offset + "+" + count;
    }

    public static ShardSlice parse(String path) {
        int hash = path.lastIndexOf('#');
        int plus = path.lastIndexOf('+');
        if (hash < 0 || plus < hash) {
            throw new IllegalArgumentException("not a shard slice (expected <shard>#<offset>+<count>): " + path);
        }
        return new ShardSlice(path.substring(0, hash), Long.parseLong(path.substring(hash + 1, plus)),
                Integer.parseInt(path.substring(plus + 1)));
    }

    /** All slices of a split's shards, each at most {@code maxRows} long, in shard order. */
    public static List<ShardSlice> cut(String datasetUri, Manifest.Split split, int maxRows) {
        List<ShardSlice> slices = new ArrayList<>();
        String base = datasetUri.endsWith("/") ? datasetUri : datasetUri + "/";
        for (Manifest.ShardInfo shard : split.shards) {
            for (long off = 0; off < shard.rows; off += maxRows) {
                slices.add(new ShardSlice(base + shard.file, off, (int) Math.min(maxRows, shard.rows - off)));
            }
        }
        return slices;
    }

    /** The epoch's order: a seeded shuffle, different every epoch, identical on rerun and on resume. */
    public static List<ShardSlice> epochOrder(List<ShardSlice> slices, long seed, int epoch) {
        List<ShardSlice> order = new ArrayList<>(slices);
        Collections.shuffle(order, new Random(seed * 1_000_003L + epoch));
        return order;
    }

    @Override
    public String toString() {
        return path();
    }
}
