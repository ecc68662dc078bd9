package org.sparkzoo.jobs.eval;

import java.util.List;

/**
 * The ways to combine the members' softmax outputs for one image: {@code mean} (average softmax), {@code weighted}
 * (weighted average), {@code vote} (plurality of the members' top-1; a tie goes to the class with the higher mean
 * probability, then to the lower class index). Each returns the classes best first.
 */
final class Ensembles {
    private Ensembles() {
    }

    static int[] combine(String rule, List<Evaluator.Member> members, float[][][] probs, int image, int numClasses) {
        float[] mean = new float[numClasses];
        double totalWeight = 0;
        for (int m = 0; m < members.size(); m++) {
            double w = "weighted".equals(rule) ? members.get(m).weight : 1.0;
            totalWeight += w;
            for (int c = 0; c < numClasses; c++) {
                mean[c] += (float) (w * probs[m][image][c]);
            }
        }
        for (int c = 0; c < numClasses; c++) {
            mean[c] /= (float) totalWeight;
        }
        if (!"vote".equals(rule)) {
            return Evaluator.rank(mean);
        }
        // plurality vote of the members' top-1; equal vote counts go to the higher mean probability, equal means
        // to the lower class index (compared exactly, not folded into one float score)
        int[] votes = new int[numClasses];
        for (int m = 0; m < members.size(); m++) {
            votes[argmax(probs[m][image])]++;
        }
        Integer[] order = new Integer[numClasses];
        for (int c = 0; c < numClasses; c++) {
            order[c] = c;
        }
        java.util.Arrays.sort(order, (a, b) -> votes[a] != votes[b] ? Integer.compare(votes[b], votes[a])
                : mean[a] != mean[b] ? Float.compare(mean[b], mean[a]) : Integer.compare(a, b));
        int[] ranked = new int[Math.min(Evaluator.RANKED, numClasses)];
        for (int j = 0; j < ranked.length; j++) {
            ranked[j] = order[j];
        }
        return ranked;
    }

    static int argmax(float[] v) {
        int a = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[a]) {
                a = i;
            }
        }
        return a;
    }
}
