package org.sparkzoo.jobs.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkzoo.jobs.checkpoint.Checkpoints;
import org.sparkzoo.jobs.checkpoint.TrainState;
import org.sparkzoo.jobs.cli.UserError;
import org.sparkzoo.jobs.report.Charts;
import org.sparkzoo.jobs.report.Files;
import org.sparkzoo.models.ModelSpec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A training run's output folder: {@code metrics/} (one JSON object per round and per epoch),
 * {@code training-curve.png}, {@code training-stats.html} (dl4j-spark's timeline), {@code workers.json} (which
 * executor JVMs trained how many minibatches), {@code summary.json}, {@code model.zip} and {@code checkpoints/}.
 *
 * <p>Metrics are append-only, one part file per run segment (the first start and every {@code --resume}):
 * {@code metrics/part-00000.jsonl}, {@code part-00001.jsonl}, ... Each part starts with a {@code segment} row
 * (the checkpoint's epoch, round and global round it continues from) and gets one line per metric, flushed as it
 * is written, through one open stream; no file is ever rewritten, so the cost per round is constant and it works
 * on every Hadoop file system without {@code append} (which the local and S3A file systems lack). A resumed segment
 * redoes the rounds after its checkpoint: {@link #read} drops the earlier segments' rows past that point.
 */
public final class RunFolder {
    static final String METRICS_DIR = "metrics";
    /** The single file earlier versions rewrote every round; read as the first segment when present. */
    static final String LEGACY_METRICS = "metrics.jsonl";
    private static final Pattern PART = Pattern.compile("part-(\\d{5})\\.jsonl");
    private static final ObjectMapper JSON = Checkpoints.json();
    private static final ObjectMapper COMPACT = new ObjectMapper();
    private static final Logger log = LoggerFactory.getLogger(RunFolder.class);

    private final Path dir;
    private final Configuration conf;
    /** This run's rows so far, for the curves; kept to the figures they plot. */
    private final List<Map<String, Object>> metrics = new ArrayList<>();
    private FSDataOutputStream segment;

    RunFolder(String uri, Configuration conf) throws IOException {
        this.dir = new Path(uri);
        this.conf = conf;
        for (Map<String, Object> m : read(uri, conf)) {
            metrics.add(plotted(m));
        }
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

    /**
     * Opens this segment's part file, continuing from {@code state} (a new run's empty state or the checkpoint a
     * resume loaded); rows of earlier segments past that point are from rounds this segment redoes.
     */
    void startSegment(TrainState state) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("type", "segment");
        header.put("epoch", state.epoch);
        header.put("round", state.round);
        header.put("global_round", state.globalRound);
        header.put("started_at_millis", System.currentTimeMillis());
        dropPast(metrics, header);
        FileSystem fs = dir.getFileSystem(conf);
        // the raw local file system: its flush reaches the file, and no .crc falls behind a killed writer's data
        FileSystem out = fs instanceof ChecksumFileSystem ? ((ChecksumFileSystem) fs).getRawFileSystem() : fs;
        Path parts = new Path(dir, METRICS_DIR);
        int next = 0;
        if (fs.exists(parts)) {
            for (FileStatus s : fs.listStatus(parts)) {
                Matcher m = PART.matcher(s.getPath().getName());
                if (m.matches()) {
                    next = Math.max(next, Integer.parseInt(m.group(1)) + 1);
                }
            }
        }
        segment = out.create(out.makeQualified(new Path(parts, String.format(Locale.ROOT, "part-%05d.jsonl", next))), false);
        append(header);
    }

    /** Records one metrics line: appended to this segment's part and flushed, so a kill loses at most that line. */
    void metric(Map<String, Object> m) throws IOException {
        if (segment == null) {
            throw new IllegalStateException("RunFolder.startSegment was not called before the first metric");
        }
        append(m);
        metrics.add(plotted(m));
    }

    private void append(Map<String, Object> m) throws IOException {
        segment.write((COMPACT.writeValueAsString(m) + "\n").getBytes(StandardCharsets.UTF_8));
        segment.hflush();
    }

    /** Closes this segment's part file. */
    void close() throws IOException {
        if (segment != null) {
            segment.close();
            segment = null;
        }
    }

    /**
     * The run's metrics as one series: every segment's rows in order, minus the rows a later segment redid (rounds
     * past the global round it resumed from, epochs past the epochs its checkpoint had completed), without the
     * segment rows themselves. A line cut short by a kill is skipped.
     */
    public static List<Map<String, Object>> read(String runUri, Configuration conf) throws IOException {
        Path dir = new Path(runUri);
        FileSystem fs = dir.getFileSystem(conf);
        List<Path> files = new ArrayList<>();
        if (fs.exists(new Path(dir, LEGACY_METRICS))) {
            files.add(new Path(dir, LEGACY_METRICS));
        }
        Path parts = new Path(dir, METRICS_DIR);
        if (fs.exists(parts)) {
            List<Path> found = new ArrayList<>();
            for (FileStatus s : fs.listStatus(parts)) {
                if (PART.matcher(s.getPath().getName()).matches()) {
                    found.add(s.getPath());
                }
            }
            found.sort(Comparator.comparing(Path::getName));
            files.addAll(found);
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Path p : files) {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(fs.open(p), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.isBlank()) {
                        continue;
                    }
                    Map<String, Object> m;
                    try {
                        @SuppressWarnings("unchecked")
                        Map<String, Object> parsed = JSON.readValue(line, Map.class);
                        m = parsed;
                    } catch (IOException e) {
                        log.warn("skipping an unreadable line of {} (cut short by a kill?): {}", p, line);
                        continue;
                    }
                    if ("segment".equals(m.get("type"))) {
                        dropPast(rows, m);
                    } else {
                        rows.add(m);
                    }
                }
            }
        }
        return rows;
    }

    /** Removes the rows that the segment starting at {@code header} redoes. */
    private static void dropPast(List<Map<String, Object>> rows, Map<String, Object> header) {
        long globalRound = ((Number) header.get("global_round")).longValue();
        int epochsDone = ((Number) header.get("epoch")).intValue();
        rows.removeIf(m -> "round".equals(m.get("type")) ? ((Number) m.get("global_round")).longValue() > globalRound
                : "epoch".equals(m.get("type")) && ((Number) m.get("epoch")).intValue() > epochsDone);
    }

    /** The fields {@link #curves} and {@link #dropPast} use: a run's in-memory rows stay small. */
    private static Map<String, Object> plotted(Map<String, Object> m) {
        Map<String, Object> keep = new HashMap<>(8);
        for (String key : List.of("type", "epoch", "global_round", "loss", "lr", "val_top1")) {
            if (m.get(key) != null) {
                keep.put(key, m.get(key));
            }
        }
        return keep;
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
