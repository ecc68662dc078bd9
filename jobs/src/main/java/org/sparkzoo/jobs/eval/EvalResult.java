package org.sparkzoo.jobs.eval;

import java.util.ArrayList;
import java.util.List;

/** Accuracy of each member and of their ensemble, with the per-class counts and the confusion matrix. */
public final class EvalResult {
    public final List<String> classNames;
    public final List<String> wnids;
    public final List<Scores> members = new ArrayList<>();
    /** Registry name of each member's model, in member order (for the reference figures). */
    public final List<String> models = new ArrayList<>();
    /** The test-time views each member averaged, e.g. [center@1.14] or the ten crops. */
    public List<String> views = new ArrayList<>();
    /** Per member: multiply-adds of one forward pass and trainable parameters (the accuracy-versus-cost chart). */
    public final List<Long> multiplyAdds = new ArrayList<>();
    public final List<Long> params = new ArrayList<>();
    /** What --explain computed; null without it. */
    public Explanations.Result explanations;
    public double explainSeconds;
    /** For a single model, the same as its only member. */
    public Scores ensemble;
    public long expectedImages;
    public double seconds;

    public EvalResult(List<String> wnids, List<String> classNames) {
        this.wnids = wnids;
        this.classNames = classNames;
    }

    public Scores ensemble() {
        return ensemble;
    }

    /** Top-k accuracy and counts of one model (or of the ensemble). */
    public static final class Scores {
        public final String name;
        public final int numClasses;
        public long count;
        public long top1Correct;
        public long top5Correct;
        public double top1;
        public double top5;
        /** topKCorrect[k-1] = images whose label is among the k best scores, k = 1..min(10, classes). */
        public final long[] topKCorrect;
        public final long[] perClassTotal;
        public final long[] perClassCorrect;
        public final long[][] confusion;

        public Scores(String name, int numClasses) {
            this.name = name;
            this.numClasses = numClasses;
            this.topKCorrect = new long[Math.min(10, numClasses)];
            this.perClassTotal = new long[numClasses];
            this.perClassCorrect = new long[numClasses];
            this.confusion = new long[numClasses][numClasses];
        }

        /** Counts one image given its label and its classes ranked best first. */
        void add(int label, int[] ranked) {
            count++;
            perClassTotal[label]++;
            confusion[label][ranked[0]]++;
            for (int k = 0; k < topKCorrect.length && k < ranked.length; k++) {
                if (ranked[k] == label) {
                    for (int j = k; j < topKCorrect.length; j++) {
                        topKCorrect[j]++;
                    }
                    break;
                }
            }
            if (ranked[0] == label) {
                perClassCorrect[label]++;
            }
        }

        void finish() {
            top1Correct = topKCorrect[0];
            top5Correct = topKCorrect[Math.min(5, topKCorrect.length) - 1];
            top1 = count == 0 ? Double.NaN : (double) top1Correct / count;
            top5 = count == 0 ? Double.NaN : (double) top5Correct / count;
        }

        /** Top-k accuracy, k = 1..topKCorrect.length. */
        public double topK(int k) {
            return count == 0 ? Double.NaN : (double) topKCorrect[k - 1] / count;
        }

        public double perClassAccuracy(int c) {
            return perClassTotal[c] == 0 ? Double.NaN : (double) perClassCorrect[c] / perClassTotal[c];
        }
    }
}
