package org.sparkzoo.jobs.eval;

import java.util.List;

/** The ways to combine the members' softmax outputs for one image. */
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
        // majority vote of the members' top-1; ties (and the ranks below the winner) follow the mean softmax
        float[] votes = new float[numClasses];
        for (int m = 0; m < members.size(); m++) {
            votes[argmax(probs[m][image])] += 1f;
        }
        float[] score = new float[numClasses];
        for (int c = 0; c < numClasses; c++) {
            score[c] = votes[c] + mean[c] / 2f; // mean < 1, so it only breaks ties between equal vote counts
        }
        return Evaluator.rank(score);
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
