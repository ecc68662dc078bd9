package org.sparkzoo.jobs.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.sparkzoo.jobs.JobMain.UserError;
import org.sparkzoo.jobs.report.Charts;
import org.sparkzoo.jobs.report.Files;
import org.sparkzoo.models.ModelSpec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A training run's output folder: {@code metrics.jsonl} (one JSON object per round and per epoch),
 * {@code training-curve.png}, {@code training-stats.html} (dl4j-spark's timeline), {@code workers.json} (which
 * executor JVMs trained how many minibatches), {@code summary.json}, {@code model.zip} and {@code checkpoints/}.
 */
final class RunFolder {
    static final String METRICS = "metrics.jsonl";
    private static final ObjectMapper JSON = Checkpoints.json();

    private final Path dir;
    private final Configuration conf;
    private final List<Map<String, Object>> metrics = new ArrayList<>();

    RunFolder(String uri, Configuration conf) throws IOException {
        this.dir = new Path(uri);
        this.conf = conf;
        load();
    }

    String uri() throws IOException {
        return dir.getFileSystem(conf).makeQualified(dir).toString();
    }

    /** Makes the folder ours: refuses to train over an earlier run unless told to replace it. */
    void claim(boolean overwrite) throws IOException {
        FileSystem fs = dir.getFileSystem(conf);
        if (fs.exists(dir)) {
            FileStatus[] content = fs.listStatus(dir);
            if (content.length > 0) {
                if (!overwrite) {
                    throw new UserError("output " + dir + " already holds a run; pass --resume to continue it or --overwrite to replace it");
                }
                fs.delete(dir, true);
                metrics.clear();
            }
        }
        fs.mkdirs(dir);
    }

    private void load() throws IOException {
        Path p = new Path(dir, METRICS);
        FileSystem fs = dir.getFileSystem(conf);
        if (!fs.exists(p)) {
            return;
        }
        try (BufferedReader r = new BufferedReader(new InputStreamReader(fs.open(p), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (!line.isBlank()) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> m = JSON.readValue(line, Map.class);
                    metrics.add(m);
                }
            }
        }
    }

    /** Records one metrics line; the file is rewritten whole so that it is never half a line. */
    void metric(Map<String, Object> m) throws IOException {
        metrics.add(m);
        StringBuilder sb = new StringBuilder();
        ObjectMapper compact = new ObjectMapper();
        for (Map<String, Object> x : metrics) {
            sb.append(compact.writeValueAsString(x)).append('\n');
        }
        Files.write(new Path(dir, METRICS), sb.toString(), conf);
    }

    void summary(Trainer.Result result, TrainState state, ModelSpec spec) throws IOException {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("model", spec.name);
        s.put("family", spec.family);
        s.put("image_size", state.imageSize);
        s.put("epochs_completed", state.epoch);
        s.put("rounds", state.globalRound);
        s.put("final_loss", result.lastLoss);
        s.put("val_top1", result.top1);
        s.put("val_top5", result.top5);
        s.put("best_val_top1", state.bestTop1);
        s.put("images_per_second", result.imagesPerSecond);
        s.put("model_uri", result.modelUri);
        s.put("options", state.options);
        Files.write(new Path(dir, "summary.json"), JSON.writeValueAsString(s), conf);
    }

    /** Which executor JVMs fitted how many minibatches: the proof that training was spread over the cluster. */
    void workers(Map<String, Long> perJvm) throws IOException {
        Map<String, Object> w = new LinkedHashMap<>();
        w.put("jvms", perJvm.size());
        w.put("minibatches_per_jvm", perJvm);
        Files.write(new Path(dir, "workers.json"), JSON.writeValueAsString(w), conf);
    }

    /** training-curve.png: loss and learning rate per round, validation top-1 per epoch. */
    void curves() throws IOException {
        List<double[]> loss = new ArrayList<>();
        List<double[]> lr = new ArrayList<>();
        List<double[]> top1 = new ArrayList<>();
        for (Map<String, Object> m : metrics) {
            if ("round".equals(m.get("type"))) {
                double x = ((Number) m.get("global_round")).doubleValue();
                loss.add(new double[]{x, ((Number) m.get("loss")).doubleValue()});
                lr.add(new double[]{x, ((Number) m.get("lr")).doubleValue()});
            } else if ("epoch".equals(m.get("type")) && m.get("val_top1") != null) {
                top1.add(new double[]{((Number) m.get("epoch")).doubleValue(), ((Number) m.get("val_top1")).doubleValue()});
            }
        }
        byte[] png = Charts.lines("Training loss and learning rate (scaled to the loss range)", "round", "loss",
                List.of(series("loss", loss, 1), series("lr (x max loss / max lr)", lr, scale(loss, lr))));
        Files.write(new Path(dir, "training-curve.png"), png, conf);
        if (!top1.isEmpty()) {
            Files.write(new Path(dir, "validation-curve.png"),
                    Charts.lines("Validation top-1", "epoch", "top-1", List.of(series("top-1", top1, 1))), conf);
        }
    }

    private static double scale(List<double[]> a, List<double[]> b) {
        double ma = a.stream().mapToDouble(p -> p[1]).filter(Double::isFinite).max().orElse(1);
        double mb = b.stream().mapToDouble(p -> p[1]).max().orElse(1);
        return mb == 0 ? 1 : ma / mb;
    }

    private static Charts.Series series(String name, List<double[]> points, double scale) {
        double[] x = new double[points.size()];
        double[] y = new double[points.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = points.get(i)[0];
            y[i] = points.get(i)[1] * scale;
        }
        return new Charts.Series(name, x, y);
    }
}
