package org.sparkzoo.jobs.eval;

import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.sparkzoo.jobs.checkpoint.Checkpoints;
import org.sparkzoo.models.ModelConfig;
import org.sparkzoo.models.ModelRegistry;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Validation every epoch must not keep one more network per epoch: the pool holds only the current evaluation's. */
class NetworkPoolTest {

    private static ComputationGraph lenet() {
        return ModelRegistry.get("lenet5").build(ModelConfig.of(10, 1, 28, 28));
    }

    @Test
    void aNewEvaluationFreesTheNetworksOfTheLastOne() {
        ComputationGraph a = lenet();
        assertSame(a, NetworkPool.borrow("pool-test-1", "a.zip", () -> a));
        NetworkPool.giveBack("a.zip", a);
        assertSame(a, NetworkPool.borrow("pool-test-1", "a.zip", () -> { throw new AssertionError("reloaded"); }), "reused within an evaluation");
        NetworkPool.giveBack("a.zip", a);

        ComputationGraph b = lenet();
        NetworkPool.borrow("pool-test-2", "b.zip", () -> b);
        assertTrue(a.params().wasClosed(), "the last evaluation's idle network is freed");
        // a network still lent out when its evaluation ends is freed when it comes back
        ComputationGraph c = lenet();
        NetworkPool.borrow("pool-test-3", "c.zip", () -> c);
        NetworkPool.giveBack("b.zip", b);
        assertTrue(b.params().wasClosed());
        NetworkPool.giveBack("c.zip", c);
        assertFalse(c.params().wasClosed());
        assertEquals(Map.of("c.zip", 1), NetworkPool.idleByUri());
        assertEquals(0, NetworkPool.lent());
    }

    @Test
    void afterEvaluatingManyCheckpointsOnlyTheLastOnesNetworksAreHeld() throws Exception {
        FashionMnistRun run = FashionMnistRun.get();
        // K different checkpoints, as train-job's validation sees one per epoch
        Checkpoints.Loaded a = Checkpoints.load(run.modelA, run.hadoop, false);
        List<String> checkpoints = new ArrayList<>(List.of(run.modelA, run.modelB));
        for (int k = 0; k < 2; k++) {
            checkpoints.add(Checkpoints.write(a.network, a.state, new Path(run.root.resolve("pool-" + k + ".zip").toUri()), run.hadoop));
        }
        int threads = run.spark.sparkContext().defaultParallelism();
        for (String ckpt : checkpoints) {
            run.evaluate("center", ckpt);
            Map<String, Integer> held = NetworkPool.idleByUri();
            assertEquals(java.util.Set.of(ckpt), held.keySet(), "only the checkpoint just evaluated");
            assertTrue(held.get(ckpt) <= threads, held.get(ckpt) + " networks for " + threads + " task threads");
            assertEquals(0, NetworkPool.lent());
        }
        // an ensemble holds its members, and nothing else
        run.evaluate("center", run.modelA, run.modelB);
        assertEquals(2, NetworkPool.idleByUri().size(), NetworkPool.idleByUri().toString());
    }
}
