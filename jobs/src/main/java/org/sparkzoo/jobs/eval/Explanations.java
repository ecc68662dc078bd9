package org.sparkzoo.jobs.eval;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.SerializableConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkzoo.dataprep.ImageRecord;
import org.sparkzoo.jobs.checkpoint.Checkpoints;
import org.sparkzoo.jobs.data.ImageBatches;
import org.sparkzoo.jobs.data.ShardSlice;
import org.sparkzoo.jobs.explain.ClassMaps;
import org.sparkzoo.jobs.explain.Deconvnet;
import org.sparkzoo.jobs.explain.Pictures;
import org.sparkzoo.models.NativeKernels;

import java.awt.image.BufferedImage;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * {@code --explain N}: the driver picks N images from the scoring pass's ranks (a seeded sample and the most
 * confidently wrong ones) and real examples of the most confused pairs; a second, small Spark job reads only the
 * slices that hold them and, per member, computes the class maps, the deconvnet reconstructions and the pictures
 * on the executors. Only the PNG bytes (and the raw maps) come back.
 */
public final class Explanations {
    static final int CONFUSED_PAIRS = 5;
    static final int EXAMPLES_PER_PAIR = 6;
    static final long SEED = 42;

    /** One image of the split: its slice and its row in that slice (a class, not a record: Spark's Kryo cannot build records). */
    static final class Key implements Serializable {
        private static final long serialVersionUID = 1L;
        private final String slice;
        private final int row;

        Key(String slice, int row) {
            this.slice = slice;
            this.row = row;
        }

        String slice() {
            return slice;
        }

        int row() {
            return row;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.slice.equals(slice) && k.row == row;
        }

        @Override
        public int hashCode() {
            return slice.hashCode() * 31 + row;
        }
    }

    /** One explained image for one member: what the report shows and the raw maps (the tests compare them). */
    public static final class Explained implements Serializable {
        private static final long serialVersionUID = 1L;
        public int member;
        public String slice;
        public int row;
        public int label;
        public int predicted;
        public float confidence;
        /** "seeded sample" or "confidently wrong". */
        public String why;
        public String method;
        public String featureMaps;
        public List<String> deconvLayers = new ArrayList<>();
        /** Maps at the feature maps' resolution, for the true and the predicted class. */
        public float[][] mapTrue;
        public float[][] mapPredicted;
        public byte[] png;
    }

    /** A thumbnail of one image (the first member's input view). */
    static final class Thumb implements Serializable {
        private static final long serialVersionUID = 1L;
        Key key;
        byte[] png;
    }

    /** A confused pair of the ensemble's confusion matrix with real examples of it. */
    public static final class Pair implements Serializable {
        private static final long serialVersionUID = 1L;
        public int trueClass;
        public int predictedClass;
        public long images;
        final List<Key> examples = new ArrayList<>();
        public byte[] png;
    }

    /** Everything --explain adds to a report. */
    public static final class Result implements Serializable {
        private static final long serialVersionUID = 1L;
        public final List<Explained> images = new ArrayList<>();
        public final List<Pair> confused = new ArrayList<>();
        /** Per member: the first layer's filters as a grid (PNG), and the method its maps use. */
        public final List<byte[]> filters = new ArrayList<>();
        public final List<String> methods = new ArrayList<>();
        public final List<String> deconvLayers = new ArrayList<>();
    }

    /** What one task returns. */
    static final class Batch implements Serializable {
        private static final long serialVersionUID = 1L;
        final List<Explained> explained = new ArrayList<>();
        final List<Thumb> thumbs = new ArrayList<>();
        final Map<Integer, byte[]> filters = new TreeMap<>();
        final Map<Integer, String> methods = new TreeMap<>();
        final Map<Integer, String> deconv = new TreeMap<>();
    }

    /** What the executors are asked for one slice: rows to explain (with why) and rows to show as thumbnails. */
    static final class Request implements Serializable {
        private static final long serialVersionUID = 1L;
        final String slice;
        final Map<Integer, String> explain = new TreeMap<>();
        final List<Integer> thumbs = new ArrayList<>();
        /** Set on one request only: the task that also draws every member's filters. */
        boolean filters;

        Request(String slice) {
            this.slice = slice;
        }
    }

    private Explanations() {
    }

    /** The images to explain: ceil(n/2) drawn with a fixed seed, the rest the most confidently wrong (ensemble's top-1). */
    static Map<Key, String> choose(List<Evaluator.Ranked> ranked, int n) {
        List<Evaluator.Ranked> order = new ArrayList<>(ranked);
        order.sort(Comparator.comparing((Evaluator.Ranked r) -> r.slice).thenComparingInt(r -> r.row)); // independent of task order
        Map<Key, String> chosen = new LinkedHashMap<>();
        List<Evaluator.Ranked> shuffled = new ArrayList<>(order);
        Collections.shuffle(shuffled, new Random(SEED));
        for (Evaluator.Ranked r : shuffled.subList(0, Math.min((n + 1) / 2, shuffled.size()))) {
            chosen.put(new Key(r.slice, r.row), "seeded sample");
        }
        List<Evaluator.Ranked> wrong = new ArrayList<>();
        for (Evaluator.Ranked r : order) {
            if (r.ranked[r.ranked.length - 1][0] != r.label && !chosen.containsKey(new Key(r.slice, r.row))) {
                wrong.add(r);
            }
        }
        wrong.sort(Comparator.comparingDouble((Evaluator.Ranked r) -> -r.confidence));
        for (Evaluator.Ranked r : wrong) {
            if (chosen.size() >= n) {
                break;
            }
            chosen.put(new Key(r.slice, r.row), "confidently wrong");
        }
        return chosen;
    }

    /** The largest off-diagonal cells of the ensemble's confusion, each with its most confident examples. */
    static List<Pair> confusedPairs(List<Evaluator.Ranked> ranked, long[][] confusion) {
        List<Pair> pairs = new ArrayList<>();
        for (int i = 0; i < confusion.length; i++) {
            for (int j = 0; j < confusion.length; j++) {
                if (i != j && confusion[i][j] > 0) {
                    Pair p = new Pair();
                    p.trueClass = i;
                    p.predictedClass = j;
                    p.images = confusion[i][j];
                    pairs.add(p);
                }
            }
        }
        pairs.sort(Comparator.comparingLong((Pair p) -> -p.images).thenComparingInt(p -> p.trueClass).thenComparingInt(p -> p.predictedClass));
        pairs = new ArrayList<>(pairs.subList(0, Math.min(CONFUSED_PAIRS, pairs.size())));
        List<Evaluator.Ranked> byConfidence = new ArrayList<>(ranked);
        byConfidence.sort(Comparator.comparingDouble((Evaluator.Ranked r) -> -r.confidence).thenComparing(r -> r.slice).thenComparingInt(r -> r.row));
        for (Pair p : pairs) {
            for (Evaluator.Ranked r : byConfidence) {
                if (p.examples.size() < EXAMPLES_PER_PAIR && r.label == p.trueClass && r.ranked[r.ranked.length - 1][0] == p.predictedClass) {
                    p.examples.add(new Key(r.slice, r.row));
                }
            }
        }
        return pairs;
    }

    /** Runs the explanation job for the chosen images and returns what the report shows. */
    static Result run(JavaSparkContext sc, String evaluation, List<Evaluator.Member> members, List<Evaluator.Ranked> ranked,
                      EvalResult scores, EvalOptions o, Broadcast<SerializableConfiguration> conf) {
        Map<Key, String> chosen = choose(ranked, o.explain);
        List<Pair> pairs = confusedPairs(ranked, scores.ensemble.confusion);
        Map<String, Request> requests = new TreeMap<>();
        chosen.forEach((k, why) -> requests.computeIfAbsent(k.slice(), Request::new).explain.put(k.row(), why));
        for (Pair p : pairs) {
            for (Key k : p.examples) {
                requests.computeIfAbsent(k.slice(), Request::new).thumbs.add(k.row());
            }
        }
        List<Request> work = new ArrayList<>(requests.values());
        if (work.isEmpty()) {
            work.add(new Request(null));
        }
        work.get(0).filters = true;
        List<Batch> batches = sc.parallelize(work, work.size())
                .mapPartitions(new ExplainSlices(evaluation, members, o.resizeRatio, scores.classNames, conf)).collect();

        Result result = new Result();
        Map<Key, byte[]> thumbs = new java.util.HashMap<>();
        Map<Integer, byte[]> filters = new TreeMap<>();
        Map<Integer, String> methods = new TreeMap<>();
        Map<Integer, String> deconv = new TreeMap<>();
        for (Batch b : batches) {
            result.images.addAll(b.explained);
            b.thumbs.forEach(t -> thumbs.put(t.key, t.png));
            filters.putAll(b.filters);
            methods.putAll(b.methods);
            deconv.putAll(b.deconv);
        }
        List<Key> order = new ArrayList<>(chosen.keySet());
        result.images.sort(Comparator.comparingInt((Explained e) -> order.indexOf(new Key(e.slice, e.row))).thenComparingInt(e -> e.member));
        for (int m = 0; m < members.size(); m++) {
            result.filters.add(filters.get(m));
            result.methods.add(methods.get(m));
            result.deconvLayers.add(deconv.get(m));
        }
        for (Pair p : pairs) {
            List<BufferedImage> tiles = new ArrayList<>();
            List<String> captions = new ArrayList<>();
            for (Key k : p.examples) {
                try {
                    tiles.add(javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(thumbs.get(k))));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                captions.add("row " + k.row());
            }
            p.png = Pictures.row(String.format(Locale.ROOT, "%s predicted as %s (%d images)", scores.classNames.get(p.trueClass),
                    scores.classNames.get(p.predictedClass), p.images), tiles, captions);
            result.confused.add(p);
        }
        return result;
    }

    /** Pixels of a picture per pixel of a network input: small inputs (28 px) are shown larger. */
    static int scale(int imageSize) {
        return Math.max(1, Math.round(112f / imageSize));
    }

    /** Executor side: explains the requested rows of each slice with every member. */
    static final class ExplainSlices implements FlatMapFunction<Iterator<Request>, Batch> {
        private static final long serialVersionUID = 1L;
        private final String evaluation;
        private final List<Evaluator.Member> members;
        private final double resizeRatio;
        private final List<String> classNames;
        private final Broadcast<SerializableConfiguration> conf;

        ExplainSlices(String evaluation, List<Evaluator.Member> members, double resizeRatio, List<String> classNames,
                      Broadcast<SerializableConfiguration> conf) {
            this.evaluation = evaluation;
            this.members = members;
            this.resizeRatio = resizeRatio;
            this.classNames = classNames;
            this.conf = conf;
        }

        @Override
        public Iterator<Batch> call(Iterator<Request> requests) throws Exception {
            NativeKernels.enable();
            Configuration hadoop = conf.value().value();
            Batch batch = new Batch();
            ComputationGraph[] nets = new ComputationGraph[members.size()];
            ClassMaps.Explainer[] explainers = new ClassMaps.Explainer[members.size()];
            try {
                for (int m = 0; m < members.size(); m++) {
                    Evaluator.Member member = members.get(m);
                    // a network of its own: the explanation copies and feed-forwards must not touch the scoring pass's pooled ones
                    nets[m] = Checkpoints.load(member.uri, hadoop, false).network;
                    explainers[m] = new ClassMaps.Explainer(nets[m], InputType.convolutional(member.imageSize, member.imageSize, member.channels));
                    batch.methods.put(m, explainers[m].plan.toString());
                    batch.deconv.put(m, String.join(", ", Deconvnet.convLayers(Deconvnet.chain(nets[m].getConfiguration()))));
                }
                while (requests.hasNext()) {
                    Request r = requests.next();
                    if (r.filters) {
                        for (int m = 0; m < members.size(); m++) {
                            batch.filters.put(m, filters(nets[m]));
                        }
                    }
                    if (r.slice != null) {
                        explain(r, nets, explainers, hadoop, batch);
                    }
                }
            } finally {
                for (int m = 0; m < members.size(); m++) {
                    if (explainers[m] != null) {
                        explainers[m].close();
                    }
                    if (nets[m] != null) {
                        NetworkPool.free(nets[m]);
                    }
                }
            }
            return List.of(batch).iterator();
        }

        private void explain(Request r, ComputationGraph[] nets, ClassMaps.Explainer[] explainers, Configuration hadoop, Batch batch) {
            List<ImageRecord> records = ShardSlice.parse(r.slice).read(hadoop);
            for (int row : r.thumbs) {
                Evaluator.Member first = members.get(0);
                Thumb t = new Thumb();
                t.key = new Key(r.slice, row);
                t.png = Pictures.png(Pictures.input(input(records.get(row), first), ImageBatches.mean(first.channels),
                        ImageBatches.std(first.channels), Math.max(1, scale(first.imageSize) * 3 / 4)));
                batch.thumbs.add(t);
            }
            for (Map.Entry<Integer, String> e : r.explain.entrySet()) {
                ImageRecord record = records.get(e.getKey());
                for (int m = 0; m < members.size(); m++) {
                    batch.explained.add(explain(record, r.slice, e.getKey(), e.getValue(), m, nets[m], explainers[m]));
                }
            }
        }

        private INDArray input(ImageRecord record, Evaluator.Member member) {
            View center = View.parse("center", resizeRatio).get(0);
            return ImageBatches.features(List.of(record), center.transform(member.imageSize), member.channels, member.imageSize, null);
        }

        private Explained explain(ImageRecord record, String slice, int row, String why, int m, ComputationGraph net, ClassMaps.Explainer explainer) {
            Evaluator.Member member = members.get(m);
            INDArray x = input(record, member);
            INDArray p = net.output(false, x)[0];
            Explained e = new Explained();
            e.member = m;
            e.slice = slice;
            e.row = row;
            e.label = record.label;
            e.predicted = p.argMax(1).getInt(0);
            e.confidence = p.getFloat(0, e.predicted);
            e.why = why;
            e.method = explainer.plan.method;
            e.featureMaps = explainer.plan.features;
            float[][][] maps = explainer.maps(x, e.label, e.predicted);
            e.mapTrue = maps[0];
            e.mapPredicted = maps[1];
            int scale = scale(member.imageSize);
            BufferedImage image = Pictures.input(x, ImageBatches.mean(member.channels), ImageBatches.std(member.channels), scale);
            List<BufferedImage> tiles = new ArrayList<>(List.of(image, Pictures.overlay(image, e.mapTrue)));
            String grid = " " + e.mapTrue.length + "x" + e.mapTrue[0].length; // a 1x1 map (stride 32 at 32 px) can only be uniform
            List<String> captions = new ArrayList<>(List.of("input", e.method + grid + ": true\n" + classNames.get(e.label)));
            if (e.predicted != e.label) {
                tiles.add(Pictures.overlay(image, e.mapPredicted));
                captions.add(e.method + grid + ": predicted\n" + classNames.get(e.predicted));
            }
            List<Deconvnet.Step> chain = Deconvnet.chain(net.getConfiguration());
            if (!chain.isEmpty()) {
                Map<String, INDArray> acts = net.feedForward(x, false);
                for (String layer : Deconvnet.convLayers(chain)) {
                    tiles.add(Pictures.reconstruction(Deconvnet.reconstruct(net, chain, x, acts, layer), scale));
                    captions.add("deconvnet\n" + layer + " top unit");
                    e.deconvLayers.add(layer);
                }
            }
            String title = String.format(Locale.ROOT, "%s: true %s, predicted %s (p=%.2f), %s", member.name, classNames.get(e.label),
                    classNames.get(e.predicted), e.confidence, why);
            e.png = Pictures.row(title, tiles, captions);
            return e;
        }

        /** The first convolution's filters as a grid. */
        private static byte[] filters(ComputationGraph net) {
            for (String name : net.getConfiguration().getTopologicalOrderStr()) {
                if (net.getConfiguration().getVertices().get(name) instanceof LayerVertex lv && lv.getLayerConf().getLayer() instanceof ConvolutionLayer
                        && net.getLayer(name).paramTable().get("W") != null && net.getLayer(name).paramTable().get("W").rank() == 4) {
                    INDArray w = net.getLayer(name).getParam("W");
                    int k = (int) Math.max(w.size(2), w.size(3));
                    return Pictures.png(Pictures.filters(w, Math.max(3, 48 / k)));
                }
            }
            return null;
        }
    }
}
