package org.sparkzoo.jobs.eval;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ScoresTest {

    @Test
    void rankOrdersClassesByScore() {
        assertArrayEquals(new int[]{2, 0, 3, 1}, Evaluator.rank(new float[]{0.3f, 0.05f, 0.5f, 0.15f}));
    }

    @Test
    void topKPerClassAndConfusionCountEachImageOnce() {
        EvalResult.Scores s = new EvalResult.Scores("m", 6);
        s.add(0, new int[]{0, 1, 2, 3, 4, 5});   // top-1 hit
        s.add(1, new int[]{0, 2, 3, 4, 1, 5});   // top-5 hit only
        s.add(2, new int[]{0, 1, 3, 4, 5, 2});   // miss even at top-5
        s.add(2, new int[]{2, 1, 3, 4, 5, 0});   // top-1 hit
        s.finish();
        assertEquals(4, s.count);
        assertEquals(0.5, s.top1, 1e-12);
        assertEquals(0.75, s.top5, 1e-12);
        assertEquals(1, s.confusion[1][0]);
        assertEquals(1, s.confusion[2][0]);
        assertEquals(1, s.confusion[2][2]);
        assertEquals(2, s.perClassTotal[2]);
        assertEquals(0.5, s.perClassAccuracy(2), 1e-12);
        long sum = 0;
        for (long[] row : s.confusion) {
            for (long v : row) {
                sum += v;
            }
        }
        assertEquals(s.count, sum);
    }

    @Test
    void ensembleRules() {
        List<Evaluator.Member> members = List.of(new Evaluator.Member("a", "a", 28, 1, 1.0, "lenet5"),
                new Evaluator.Member("b", "b", 28, 1, 1.0, "lenet5"), new Evaluator.Member("c", "c", 28, 1, 3.0, "lenet5"));
        float[][][] probs = {
                {{0.6f, 0.4f, 0.0f}},
                {{0.55f, 0.45f, 0.0f}},
                {{0.0f, 0.2f, 0.8f}},
        };
        // mean of softmax: class 0 = 0.383, class 1 = 0.35, class 2 = 0.267
        assertEquals(0, Ensembles.combine("mean", members, probs, 0, 3)[0]);
        // majority vote: two members say 0
        assertEquals(0, Ensembles.combine("vote", members, probs, 0, 3)[0]);
        // weighted (1, 1, 3): class 2 = 2.4/5 wins
        assertEquals(2, Ensembles.combine("weighted", members, probs, 0, 3)[0]);
    }

    private static List<Evaluator.Member> members(int n) {
        List<Evaluator.Member> m = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            m.add(new Evaluator.Member("m" + i, "m" + i, 28, 1, 1.0, "lenet5"));
        }
        return m;
    }

    @Test
    void voteFollowsTheMajorityWhereTheMeanDisagrees() {
        // two members lean slightly to class 0, one is sure of class 1: the mean says 1, the vote says 0
        float[][][] probs = {
                {{0.50f, 0.45f, 0.05f}},
                {{0.50f, 0.45f, 0.05f}},
                {{0.00f, 1.00f, 0.00f}},
        };
        assertEquals(1, Ensembles.combine("mean", members(3), probs, 0, 3)[0]);
        int[] vote = Ensembles.combine("vote", members(3), probs, 0, 3);
        assertEquals(0, vote[0]);
        // below the winner, classes with no votes follow the mean
        assertEquals(1, vote[1]);
        assertEquals(2, vote[2]);
    }

    @Test
    void aTiedVoteGoesToTheHigherMeanProbabilityThenToTheLowerClass() {
        // one vote each for classes 2 and 1; class 1's mean (0.45) beats class 2's (0.40), though class 2 was voted first
        float[][][] tie = {
                {{0.05f, 0.15f, 0.80f}},
                {{0.25f, 0.75f, 0.00f}},
        };
        int[] vote = Ensembles.combine("vote", members(2), tie, 0, 3);
        assertEquals(1, vote[0]);
        assertEquals(2, vote[1]);
        // equal votes and equal means: the lower class index
        float[][][] even = {
                {{0.1f, 0.45f, 0.45f}},
                {{0.1f, 0.45f, 0.45f}},
        };
        assertEquals(1, Ensembles.combine("vote", members(2), even, 0, 3)[0]);
        float[][][] mirrored = {
                {{0.0f, 0.7f, 0.3f}},
                {{0.0f, 0.3f, 0.7f}},
        };
        assertEquals(1, Ensembles.combine("vote", members(2), mirrored, 0, 3)[0]);
    }
}
