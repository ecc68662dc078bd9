package org.sparkzoo.jobs.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.sparkzoo.jobs.report.Charts;
import org.sparkzoo.jobs.report.Files;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes an evaluation as metrics.json (for machines), report.md and report.html (for people), and PNG charts. */
public final class EvalReport {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private EvalReport() {
    }

    /** Writes everything into {@code dir}; returns the path of report.html. */
    public static String write(EvalResult r, EvalOptions o, String dir, Configuration conf) throws IOException {
        Path out = new Path(dir);
        out.getFileSystem(conf).mkdirs(out);
        Files.write(new Path(out, "metrics.json"), JSON.writeValueAsString(metrics(r, o)), conf);
        Map<String, Double> perClass = Charts.ordered();
        for (int c = 0; c < r.wnids.size(); c++) {
            perClass.put(r.classNames.get(c), r.ensemble.perClassAccuracy(c));
        }
        Files.write(new Path(out, "per-class-accuracy.png"), Charts.bars("Top-1 accuracy per class (" + r.ensemble.name + ")", "top-1", perClass, 1.0), conf);
        Files.write(new Path(out, "confusion.png"), Charts.heatmap("Confusion matrix (" + r.ensemble.name + ")", r.classNames, r.ensemble.confusion), conf);
        List<Charts.Series> topk = new ArrayList<>();
        for (EvalResult.Scores s : all(r)) {
            double[] k = new double[s.topKCorrect.length];
            double[] acc = new double[k.length];
            for (int i = 0; i < k.length; i++) {
                k[i] = i + 1;
                acc[i] = (double) s.topKCorrect[i] / Math.max(1, s.count);
            }
            topk.add(new Charts.Series(s.name, k, acc));
        }
        Files.write(new Path(out, "topk.png"), Charts.lines("Top-k accuracy", "k", "accuracy", topk), conf);
        if (r.members.size() > 1) {
            Map<String, Double> members = Charts.ordered();
            for (EvalResult.Scores s : all(r)) {
                members.put(s.name, s.top1);
            }
            Files.write(new Path(out, "ensemble.png"), Charts.bars("Top-1: members and ensemble", "top-1", members, 1.0), conf);
        }
        Files.write(new Path(out, "report.md"), markdown(r, o), conf);
        Path html = new Path(out, "report.html");
        Files.write(html, html(r, o), conf);
        return html.getFileSystem(conf).makeQualified(html).toString();
    }

    public static List<EvalResult.Scores> all(EvalResult r) {
        List<EvalResult.Scores> all = new ArrayList<>(r.members);
        if (r.members.size() > 1) {
            all.add(r.ensemble);
        }
        return all;
    }

    static Map<String, Object> metrics(EvalResult r, EvalOptions o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("data", o.data);
        m.put("split", o.split);
        m.put("views", o.views);
        m.put("ensemble_rule", r.members.size() > 1 ? o.ensemble : null);
        m.put("images", r.ensemble.count);
        m.put("manifest_images", r.expectedImages);
        m.put("seconds", r.seconds);
        List<Map<String, Object>> members = new ArrayList<>();
        for (int i = 0; i < r.members.size(); i++) {
            Map<String, Object> s = scores(r.members.get(i), r);
            s.put("checkpoint", o.checkpoints.size() > i ? o.checkpoints.get(i) : null);
            members.add(s);
        }
        m.put("members", members);
        m.put("ensemble", r.members.size() > 1 ? scores(r.ensemble, r) : null);
        m.put("top1", r.ensemble.top1);
        m.put("top5", r.ensemble.top5);
        m.put("confusion", r.ensemble.confusion);
        m.put("most_confused", mostConfused(r, 10));
        return m;
    }

    private static Map<String, Object> scores(EvalResult.Scores s, EvalResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name);
        m.put("images", s.count);
        m.put("top1", s.top1);
        m.put("top5", s.top5);
        List<Map<String, Object>> perClass = new ArrayList<>();
        for (int c = 0; c < s.numClasses; c++) {
            Map<String, Object> pc = new LinkedHashMap<>();
            pc.put("wnid", r.wnids.get(c));
            pc.put("name", r.classNames.get(c));
            pc.put("images", s.perClassTotal[c]);
            pc.put("top1_correct", s.perClassCorrect[c]);
            pc.put("top1", s.perClassAccuracy(c));
            perClass.add(pc);
        }
        m.put("per_class", perClass);
        return m;
    }

    /** Off-diagonal confusion cells, largest first: (true, predicted, count). */
    static List<Map<String, Object>> mostConfused(EvalResult r, int n) {
        List<long[]> cells = new ArrayList<>();
        long[][] cm = r.ensemble.confusion;
        for (int i = 0; i < cm.length; i++) {
            for (int j = 0; j < cm.length; j++) {
                if (i != j && cm[i][j] > 0) {
                    cells.add(new long[]{i, j, cm[i][j]});
                }
            }
        }
        cells.sort(Comparator.comparingLong((long[] c) -> -c[2]));
        List<Map<String, Object>> out = new ArrayList<>();
        for (long[] c : cells.subList(0, Math.min(n, cells.size()))) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("true", r.classNames.get((int) c[0]));
            m.put("predicted", r.classNames.get((int) c[1]));
            m.put("images", c[2]);
            out.add(m);
        }
        return out;
    }

    static String markdown(EvalResult r, EvalOptions o) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Evaluation on ").append(o.data).append(" (").append(o.split).append(")\n\n");
        sb.append(String.format(Locale.ROOT, "%d images, views: %s, %.1f s%n%n", r.ensemble.count, o.views, r.seconds));
        sb.append("| model | top-1 | top-5 |\n|---|---|---|\n");
        for (EvalResult.Scores s : all(r)) {
            sb.append(String.format(Locale.ROOT, "| %s | %.4f | %.4f |%n", s.name, s.top1, s.top5));
        }
        sb.append("\n## Per class (").append(r.ensemble.name).append(")\n\n| class | images | top-1 |\n|---|---|---|\n");
        for (int c = 0; c < r.wnids.size(); c++) {
            sb.append(String.format(Locale.ROOT, "| %s (%s) | %d | %.4f |%n", r.classNames.get(c), r.wnids.get(c),
                    r.ensemble.perClassTotal[c], r.ensemble.perClassAccuracy(c)));
        }
        sb.append("\n## Most confused pairs\n\n| true | predicted as | images |\n|---|---|---|\n");
        for (Map<String, Object> m : mostConfused(r, 10)) {
            sb.append("| ").append(m.get("true")).append(" | ").append(m.get("predicted")).append(" | ").append(m.get("images")).append(" |\n");
        }
        sb.append("\n![per-class accuracy](per-class-accuracy.png)\n\n![confusion](confusion.png)\n\n![top-k](topk.png)\n");
        return sb.toString();
    }

    static String html(EvalResult r, EvalOptions o) {
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>sparkzoo evaluation</title><style>")
                .append("body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}")
                .append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}")
                .append("th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}.big{font-size:2em;font-weight:bold}")
                .append("img{max-width:100%;border:1px solid #eee;margin:0.5em 0}</style></head><body>");
        sb.append("<h1>Evaluation: ").append(esc(r.ensemble.name)).append("</h1>");
        sb.append(String.format(Locale.ROOT, "<p class=\"big\">top-1 %.2f%% &nbsp; top-5 %.2f%%</p>", 100 * r.ensemble.top1, 100 * r.ensemble.top5));
        sb.append(String.format(Locale.ROOT, "<p>%d images of the <code>%s</code> split of <code>%s</code>, each counted once; test-time views: %s; %.1f s.</p>",
                r.ensemble.count, esc(o.split), esc(o.data), esc(o.views), r.seconds));
        sb.append("<h2>Models</h2><table><tr><th>model</th><th>top-1</th><th>top-5</th></tr>");
        for (EvalResult.Scores s : all(r)) {
            sb.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%.4f</td><td>%.4f</td></tr>", esc(s.name), s.top1, s.top5));
        }
        sb.append("</table>");
        if (r.members.size() > 1) {
            sb.append("<img src=\"ensemble.png\" alt=\"members and ensemble\">");
        }
        sb.append("<h2>Per class</h2><img src=\"per-class-accuracy.png\" alt=\"per-class accuracy\">");
        sb.append("<h2>Confusion</h2><img src=\"confusion.png\" alt=\"confusion matrix\">");
        sb.append("<table><tr><th>true class</th><th>predicted as</th><th>images</th></tr>");
        for (Map<String, Object> m : mostConfused(r, 10)) {
            sb.append("<tr><td>").append(esc(String.valueOf(m.get("true")))).append("</td><td>")
                    .append(esc(String.valueOf(m.get("predicted")))).append("</td><td>").append(m.get("images")).append("</td></tr>");
        }
        sb.append("</table><h2>Top-k</h2><img src=\"topk.png\" alt=\"top-k accuracy\">");
        sb.append("<p>Machine-readable figures: <a href=\"metrics.json\">metrics.json</a>.</p></body></html>");
        return sb.toString();
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
