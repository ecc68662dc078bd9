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
        Files.write(new Path(out, "per-class-accuracy.png"), perClassChart(r), conf);
        Files.write(new Path(out, "confusion.png"), Charts.heatmap("Confusion matrix (" + r.ensemble.name + ")", r.classNames, r.ensemble.confusion), conf);
        List<Charts.Series> topk = new ArrayList<>();
        for (EvalResult.Scores s : all(r)) {
            double[] k = new double[s.topKCorrect.length];
            double[] acc = new double[k.length];
            for (int i = 0; i < k.length; i++) {
                k[i] = i + 1;
                acc[i] = s.topK(i + 1);
            }
            topk.add(new Charts.Series(s.name, k, acc));
        }
        Files.write(new Path(out, "topk.png"), Charts.lines("Top-k accuracy", "k", "accuracy", topk), conf);
        Files.write(new Path(out, "ensemble.png"), modelsChart(r), conf);
        Files.write(new Path(out, "cost.png"), costChart(r), conf);
        if (r.explanations != null) {
            List<String> files = explanationFiles(r);
            for (int i = 0; i < r.explanations.images.size(); i++) {
                Files.write(new Path(out, files.get(i)), r.explanations.images.get(i).png, conf);
            }
            for (int m = 0; m < r.explanations.filters.size(); m++) {
                if (r.explanations.filters.get(m) != null) {
                    Files.write(new Path(out, filtersFile(r, m)), r.explanations.filters.get(m), conf);
                }
            }
            for (int i = 0; i < r.explanations.confused.size(); i++) {
                Files.write(new Path(out, "confused-" + (i + 1) + ".png"), r.explanations.confused.get(i).png, conf);
            }
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

    /** The member with the best top-1 (ties: the first). */
    static EvalResult.Scores bestMember(EvalResult r) {
        EvalResult.Scores best = r.members.get(0);
        for (EvalResult.Scores s : r.members) {
            if (s.top1 > best.top1) {
                best = s;
            }
        }
        return best;
    }

    static List<References.Row> references(EvalResult r) {
        return References.forModels(r.models, r.classNames);
    }

    /** Members, the ensemble (when there is one) and the published references, on a y axis that shows their gaps. */
    private static byte[] modelsChart(EvalResult r) throws IOException {
        List<Charts.Bar> bars = new ArrayList<>();
        double lo = 1;
        for (EvalResult.Scores s : all(r)) {
            bars.add(new Charts.Bar(s.name, s.top1, s == r.ensemble && r.members.size() > 1 ? Charts.ENSEMBLE : Charts.MEMBER, null));
            lo = Math.min(lo, s.top1);
        }
        for (References.Row ref : references(r)) {
            bars.add(new Charts.Bar("ref: " + ref.reference, ref.top1High, Charts.REFERENCE, ref.top1Text()));
            lo = Math.min(lo, ref.top1);
        }
        double floor = Double.isFinite(lo) ? Math.max(0, Math.floor((lo - 0.05) * 10) / 10) : 0;
        String title = r.members.size() > 1 ? "Top-1: members, ensemble (green) and published references (grey)"
                : "Top-1: our model and published references (grey)";
        return Charts.bars(title, "top-1", bars, floor, 1.0);
    }

    /** A member's name as a file name part: lenet5@28#2 -> lenet5-28-2. */
    static String slug(String name) {
        return name.replaceAll("[^A-Za-z0-9_]+", "-");
    }

    /** explain-<image>-<member>.png for each explained image, in the result's order. */
    static List<String> explanationFiles(EvalResult r) {
        List<String> files = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        for (Explanations.Explained e : r.explanations.images) {
            String key = e.slice + "#" + e.row;
            if (!seen.contains(key)) {
                seen.add(key);
            }
            files.add(String.format(Locale.ROOT, "explain-%02d-%s.png", seen.indexOf(key) + 1, slug(r.members.get(e.member).name)));
        }
        return files;
    }

    static String filtersFile(EvalResult r, int member) {
        return "filters-" + slug(r.members.get(member).name) + ".png";
    }

    /**
     * Top-1 against multiply-adds (log x), bubble area ~ trainable parameters: our members (and ensemble), and on
     * ImageNet's classes the Keras Applications rows, placed at the multiply-adds of our build of the same
     * architecture at Keras' input size (Keras publishes no operation counts).
     */
    private static byte[] costChart(EvalResult r) throws IOException {
        List<Charts.Bubble> bubbles = new ArrayList<>();
        long macs = 0, params = 0;
        for (int i = 0; i < r.members.size(); i++) {
            bubbles.add(new Charts.Bubble(r.members.get(i).name, r.multiplyAdds.get(i), r.members.get(i).top1, r.params.get(i), Charts.MEMBER));
            macs += r.multiplyAdds.get(i);
            params += r.params.get(i);
        }
        if (r.members.size() > 1) {
            bubbles.add(new Charts.Bubble(r.ensemble.name, macs, r.ensemble.top1, params, Charts.ENSEMBLE));
        }
        for (Map<String, Object> ref : kerasCost(r)) {
            bubbles.add(new Charts.Bubble("ref: " + ref.get("reference"), ((Number) ref.get("multiply_adds")).doubleValue(),
                    (Double) ref.get("top1"), (Double) ref.get("params"), Charts.REFERENCE));
        }
        return Charts.bubbles("Top-1 vs multiply-adds per image (bubble area ~ parameters)" + (kerasCost(r).isEmpty() ? "" : "; grey: Keras Applications"),
                "multiply-adds per image (log scale)", "top-1", bubbles);
    }

    /** The Keras reference points of the cost chart (ImageNet's 1000 classes only), each with how its x was obtained. */
    static List<Map<String, Object>> kerasCost(EvalResult r) {
        List<Map<String, Object>> rows = new ArrayList<>();
        if (!"imagenet".equals(References.dataset(r.classNames))) {
            return rows;
        }
        for (References.KerasRow k : References.keras()) {
            if (!org.sparkzoo.models.ModelRegistry.contains(k.model())) {
                continue;
            }
            org.deeplearning4j.nn.conf.ComputationGraphConfiguration graph = org.sparkzoo.models.ModelRegistry.get(k.model())
                    .configuration(org.sparkzoo.models.ModelConfig.of(1000, 3, k.inputSize(), k.inputSize()));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("reference", k.name());
            m.put("top1", k.top1());
            m.put("params", k.params());
            m.put("multiply_adds", org.sparkzoo.models.ModelStats.multiplyAdds(graph, 3, k.inputSize(), k.inputSize()));
            m.put("multiply_adds_source", "sparkzoo's " + k.model() + " at " + k.inputSize() + " px (ModelStats); Keras publishes none");
            m.put("source", References.KERAS_SOURCE);
            rows.add(m);
        }
        return rows;
    }

    /** Per-class top-1 of the ensemble; sorted worst first when there are too many classes to label. */
    private static byte[] perClassChart(EvalResult r) throws IOException {
        Map<String, Double> perClass = Charts.ordered();
        List<Integer> order = classOrder(r, r.wnids.size() > 60);
        for (int c : order) {
            perClass.put(r.classNames.get(c), r.ensemble.perClassAccuracy(c));
        }
        String title = "Top-1 accuracy per class (" + r.ensemble.name + (r.wnids.size() > 60 ? ", sorted)" : ")");
        return Charts.bars(title, "top-1", perClass, 1.0);
    }

    private static List<Integer> classOrder(EvalResult r, boolean worstFirst) {
        List<Integer> order = new ArrayList<>();
        for (int c = 0; c < r.wnids.size(); c++) {
            order.add(c);
        }
        if (worstFirst) {
            order.sort(Comparator.comparingDouble(c -> Double.isNaN(r.ensemble.perClassAccuracy(c)) ? 2 : r.ensemble.perClassAccuracy(c)));
        }
        return order;
    }

    static Map<String, Object> metrics(EvalResult r, EvalOptions o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("data", o.data);
        m.put("split", o.split);
        m.put("views", o.views);
        m.put("views_description", View.describe(o.views, o.resizeRatio));
        m.put("view_transforms", r.views);
        m.put("resize_ratio", o.resizeRatio);
        m.put("ensemble_rule", r.members.size() > 1 ? o.ensemble : null);
        m.put("classes", r.wnids.size());
        m.put("images", r.ensemble.count);
        m.put("manifest_images", r.expectedImages);
        m.put("seconds", r.seconds);
        m.put("top1", r.ensemble.top1);
        m.put("top5", r.ensemble.top5);
        List<Map<String, Object>> members = new ArrayList<>();
        for (int i = 0; i < r.members.size(); i++) {
            Map<String, Object> s = scores(r.members.get(i), r);
            s.put("model", r.models.size() > i ? r.models.get(i) : null);
            s.put("checkpoint", o.checkpoints.size() > i ? o.checkpoints.get(i) : null);
            s.put("multiply_adds", r.multiplyAdds.size() > i ? r.multiplyAdds.get(i) : null);
            s.put("trainable_params", r.params.size() > i ? r.params.get(i) : null);
            if (r.explanations != null) {
                s.put("class_maps", r.explanations.methods.get(i));
                s.put("deconvnet_layers", r.explanations.deconvLayers.get(i));
            }
            members.add(s);
        }
        m.put("members", members);
        if (r.members.size() > 1) {
            EvalResult.Scores best = bestMember(r);
            Map<String, Object> e = scores(r.ensemble, r);
            e.put("best_member", best.name);
            e.put("gain_top1_over_best_member", r.ensemble.top1 - best.top1);
            e.put("gain_top5_over_best_member", r.ensemble.top5 - best.top5);
            m.put("ensemble", e);
        } else {
            m.put("ensemble", null);
        }
        List<Map<String, Object>> refs = new ArrayList<>();
        references(r).forEach(ref -> refs.add(ref.toMap()));
        m.put("references", refs);
        m.put("references_note", refs.isEmpty() ? null : "published figures from elsewhere (other recipes and code), shown for orientation; not our runs");
        m.put("confusion", r.ensemble.confusion);
        m.put("most_confused", mostConfused(r, 10));
        m.put("cost_references", kerasCost(r));
        if (r.explanations != null) {
            List<Map<String, Object>> ex = new ArrayList<>();
            List<String> files = explanationFiles(r);
            for (int i = 0; i < r.explanations.images.size(); i++) {
                Explanations.Explained e = r.explanations.images.get(i);
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("file", files.get(i));
                x.put("member", r.members.get(e.member).name);
                x.put("slice", e.slice);
                x.put("row", e.row);
                x.put("why", e.why);
                x.put("true", r.classNames.get(e.label));
                x.put("predicted", r.classNames.get(e.predicted));
                x.put("confidence", e.confidence);
                x.put("method", e.method);
                x.put("feature_maps", e.featureMaps);
                x.put("deconvnet_layers", e.deconvLayers);
                ex.add(x);
            }
            m.put("explanations", ex);
            m.put("explain_seconds", r.explainSeconds);
        }
        return m;
    }

    private static Map<String, Object> scores(EvalResult.Scores s, EvalResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name);
        m.put("images", s.count);
        m.put("top1", s.top1);
        m.put("top5", s.top5);
        m.put("top1_correct", s.top1Correct);
        m.put("top5_correct", s.top5Correct);
        double[] topk = new double[s.topKCorrect.length];
        for (int k = 1; k <= topk.length; k++) {
            topk[k - 1] = s.topK(k);
        }
        m.put("topk", topk);
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

    /** Off-diagonal confusion cells of the ensemble, largest first: true, predicted, images, share of the true class. */
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
            long total = r.ensemble.perClassTotal[(int) c[0]];
            m.put("share_of_true_class", total == 0 ? 0.0 : (double) c[2] / total);
            out.add(m);
        }
        return out;
    }

    /** The classes a per-class table lists: all of them, or the worst and best 10 when there are more than 50. */
    private static List<Integer> tableClasses(EvalResult r) {
        List<Integer> sorted = classOrder(r, true);
        if (sorted.size() <= 50) {
            return classOrder(r, false);
        }
        List<Integer> rows = new ArrayList<>(sorted.subList(0, 10));
        rows.addAll(sorted.subList(sorted.size() - 10, sorted.size()));
        return rows;
    }

    /** One sentence a person reads first. */
    static String headline(EvalResult r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s: top-1 %.2f%%, top-5 %.2f%% on %,d images", r.ensemble.name, 100 * r.ensemble.top1,
                100 * r.ensemble.top5, r.ensemble.count));
        if (r.members.size() > 1) {
            EvalResult.Scores best = bestMember(r);
            sb.append(String.format(Locale.ROOT, "; %+.2f points of top-1 vs its best member (%s, %.2f%%)",
                    100 * (r.ensemble.top1 - best.top1), best.name, 100 * best.top1));
        }
        return sb.append('.').toString();
    }

    private static String gain(EvalResult r, EvalResult.Scores s, boolean top1) {
        if (r.members.size() < 2) {
            return "";
        }
        EvalResult.Scores best = bestMember(r);
        if (s == best) {
            return "best";
        }
        double d = top1 ? s.top1 - best.top1 : s.top5 - best.top5;
        return String.format(Locale.ROOT, "%+.2f", 100 * d);
    }

    static String markdown(EvalResult r, EvalOptions o) {
        boolean ensemble = r.members.size() > 1;
        List<References.Row> refs = references(r);
        StringBuilder sb = new StringBuilder();
        sb.append("# Evaluation on ").append(o.data).append(" (").append(o.split).append(")\n\n");
        sb.append("**").append(headline(r)).append("**\n\n");
        sb.append(String.format(Locale.ROOT, "%,d images (the manifest's %s split has %,d; each counted once), %d classes; views: %s",
                r.ensemble.count, o.split, r.expectedImages, r.wnids.size(), View.describe(o.views, o.resizeRatio)));
        if (ensemble) {
            sb.append("; ensemble rule: ").append(o.ensemble);
        }
        sb.append(String.format(Locale.ROOT, "; %.1f s.%n%n", r.seconds));
        sb.append("## Models\n\n| model | top-1 | top-5 |").append(ensemble ? " top-1 vs best member (points) | top-5 vs best member (points) |" : "")
                .append("\n|---|---|---|").append(ensemble ? "---|---|" : "").append('\n');
        for (EvalResult.Scores s : all(r)) {
            boolean isEnsemble = ensemble && s == r.ensemble;
            String name = isEnsemble ? "**" + s.name + "**" : s.name;
            sb.append(String.format(Locale.ROOT, "| %s | %.4f | %.4f |", name, s.top1, s.top5));
            if (ensemble) {
                sb.append(' ').append(gain(r, s, true)).append(" | ").append(gain(r, s, false)).append(" |");
            }
            sb.append('\n');
        }
        if (!refs.isEmpty()) {
            sb.append("\n### Published references (not our runs)\n\nFigures from elsewhere, with their own training recipes, shown for orientation.\n\n");
            sb.append("| our model | reference | top-1 | top-5 | source |\n|---|---|---|---|---|\n");
            for (References.Row ref : refs) {
                sb.append("| ").append(ref.model == null ? "-" : ref.model).append(" | ").append(ref.reference).append(" | ")
                        .append(ref.top1Text()).append(" | ").append(ref.top5Text()).append(" | [").append(ref.source).append("](")
                        .append(ref.url).append(") |\n");
            }
        }
        sb.append("\n![members, ensemble and references](ensemble.png)\n");
        sb.append("\n## Per class (").append(r.ensemble.name).append(")\n\n");
        if (r.wnids.size() > 50) {
            sb.append("The 10 worst and 10 best classes; every class is in metrics.json.\n\n");
        }
        sb.append("| class | images | top-1 |");
        if (ensemble) {
            r.members.forEach(m -> sb.append(' ').append(m.name).append(" |"));
        }
        sb.append("\n|---|---|---|").append(ensemble ? "---|".repeat(r.members.size()) : "").append('\n');
        for (int c : tableClasses(r)) {
            sb.append(String.format(Locale.ROOT, "| %s (%s) | %d | %.4f |", r.classNames.get(c), r.wnids.get(c),
                    r.ensemble.perClassTotal[c], r.ensemble.perClassAccuracy(c)));
            if (ensemble) {
                r.members.forEach(m -> sb.append(String.format(Locale.ROOT, " %.4f |", m.perClassAccuracy(c))));
            }
            sb.append('\n');
        }
        sb.append("\n![per-class accuracy](per-class-accuracy.png)\n");
        sb.append("\n## Most confused pairs\n\n| true | predicted as | images | share of the true class |\n|---|---|---|---|\n");
        for (Map<String, Object> m : mostConfused(r, 10)) {
            sb.append("| ").append(m.get("true")).append(" | ").append(m.get("predicted")).append(" | ").append(m.get("images"))
                    .append(String.format(Locale.ROOT, " | %.1f%% |%n", 100 * (Double) m.get("share_of_true_class")));
        }
        sb.append("\n![confusion](confusion.png)\n\n## Top-k\n\n![top-k](topk.png)\n");
        sb.append("\n## Accuracy versus cost\n\n").append(costNote(r)).append("\n\n![top-1 vs multiply-adds](cost.png)\n");
        if (r.explanations != null) {
            Explanations.Result x = r.explanations;
            sb.append("\n## What the networks look at\n\n").append(explainNote(r)).append("\n\n");
            for (int m = 0; m < r.members.size(); m++) {
                sb.append("- ").append(r.members.get(m).name).append(": ").append(x.methods.get(m))
                        .append(x.deconvLayers.get(m) == null || x.deconvLayers.get(m).isEmpty() ? "; no deconvnet (not a plain conv chain)"
                                : "; deconvnet from " + x.deconvLayers.get(m)).append('\n');
            }
            List<String> files = explanationFiles(r);
            sb.append('\n');
            for (String f : files) {
                sb.append("![").append(f).append("](").append(f).append(")\n\n");
            }
            sb.append("## First-layer filters\n\n");
            for (int m = 0; m < r.members.size(); m++) {
                if (x.filters.get(m) != null) {
                    sb.append(r.members.get(m).name).append(":\n\n![filters](").append(filtersFile(r, m)).append(")\n\n");
                }
            }
            sb.append("## Most confused pairs: examples\n\n");
            for (int i = 0; i < x.confused.size(); i++) {
                sb.append("![confused pair ").append(i + 1).append("](confused-").append(i + 1).append(".png)\n\n");
            }
        }
        sb.append("\nMachine-readable figures: metrics.json.\n");
        return sb.toString();
    }

    static String html(EvalResult r, EvalOptions o) {
        boolean ensemble = r.members.size() > 1;
        List<References.Row> refs = references(r);
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>sparkzoo evaluation: ").append(esc(r.ensemble.name)).append("</title><style>")
                .append("body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222;padding:0 1em}")
                .append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}")
                .append("th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}")
                .append(".big{font-size:2.2em;font-weight:bold;margin:0.3em 0}.lead{font-size:1.15em}")
                .append("tr.ens td{font-weight:bold;background:#eef8ee}tr.ref td{color:#666;font-style:italic;background:#f8f8f8}")
                .append("td.src,th.src{text-align:left}.pos{color:#187a18}.neg{color:#b02020}.note{color:#666;font-size:0.9em}")
                .append("img{max-width:100%;border:1px solid #eee;margin:0.5em 0}</style></head><body>");
        sb.append("<h1>Evaluation: ").append(esc(r.ensemble.name)).append("</h1>");
        sb.append(String.format(Locale.ROOT, "<p class=\"big\">top-1 %.2f%% &nbsp; top-5 %.2f%%</p>", 100 * r.ensemble.top1, 100 * r.ensemble.top5));
        sb.append("<p class=\"lead\">").append(esc(headline(r))).append("</p>");
        sb.append(String.format(Locale.ROOT, "<p>%,d images of the <code>%s</code> split of <code>%s</code> (the manifest lists %,d; each image counted once), %d classes. "
                        + "Test-time views: %s.%s %.1f s.</p>",
                r.ensemble.count, esc(o.split), esc(o.data), r.expectedImages, r.wnids.size(), esc(View.describe(o.views, o.resizeRatio)),
                ensemble ? " Ensemble rule: <b>" + esc(o.ensemble) + "</b>." : "", r.seconds));

        sb.append("<h2>Models</h2><table><tr><th>model</th><th>top-1</th><th>top-5</th>");
        if (ensemble) {
            sb.append("<th>top-1 vs best member</th><th>top-5 vs best member</th>");
        }
        sb.append("<th class=\"src\">source</th></tr>");
        for (EvalResult.Scores s : all(r)) {
            boolean isEnsemble = ensemble && s == r.ensemble;
            sb.append(isEnsemble ? "<tr class=\"ens\">" : "<tr>");
            sb.append(String.format(Locale.ROOT, "<td>%s</td><td>%.4f</td><td>%.4f</td>", esc(s.name), s.top1, s.top5));
            if (ensemble) {
                sb.append(points(gain(r, s, true))).append(points(gain(r, s, false)));
            }
            sb.append("<td class=\"src\">this run</td></tr>");
        }
        for (References.Row ref : refs) {
            sb.append("<tr class=\"ref\"><td>reference: ").append(esc(ref.reference)).append(ref.model == null ? "" : " (for " + esc(ref.model) + ")")
                    .append("</td><td>").append(ref.top1Text()).append("</td><td>").append(ref.top5Text()).append("</td>");
            if (ensemble) {
                sb.append("<td></td><td></td>");
            }
            sb.append("<td class=\"src\"><a href=\"").append(esc(ref.url)).append("\">").append(esc(ref.source)).append("</a></td></tr>");
        }
        sb.append("</table>");
        if (!refs.isEmpty()) {
            sb.append("<p class=\"note\">Grey rows are published figures from elsewhere (other training recipes, code and budgets), "
                    + "shown for orientation; they are not runs of this project.</p>");
        }
        sb.append("<img src=\"ensemble.png\" alt=\"members, ensemble and references\">");

        sb.append("<h2>Per class</h2>");
        if (r.wnids.size() > 50) {
            sb.append("<p>The 10 worst and 10 best classes; every class is in metrics.json.</p>");
        }
        sb.append("<table><tr><th>class</th><th>images</th><th>top-1").append(ensemble ? " (" + esc(r.ensemble.name) + ")" : "").append("</th>");
        if (ensemble) {
            r.members.forEach(m -> sb.append("<th>").append(esc(m.name)).append("</th>"));
        }
        sb.append("</tr>");
        for (int c : tableClasses(r)) {
            sb.append(String.format(Locale.ROOT, "<tr><td>%s <span class=\"note\">%s</span></td><td>%d</td><td>%.4f</td>", esc(r.classNames.get(c)),
                    esc(r.wnids.get(c)), r.ensemble.perClassTotal[c], r.ensemble.perClassAccuracy(c)));
            if (ensemble) {
                r.members.forEach(m -> sb.append(String.format(Locale.ROOT, "<td>%.4f</td>", m.perClassAccuracy(c))));
            }
            sb.append("</tr>");
        }
        sb.append("</table><img src=\"per-class-accuracy.png\" alt=\"per-class accuracy\">");

        sb.append("<h2>Most confused pairs</h2><table><tr><th>true class</th><th>predicted as</th><th>images</th><th>share of the true class</th></tr>");
        for (Map<String, Object> m : mostConfused(r, 10)) {
            sb.append("<tr><td>").append(esc(String.valueOf(m.get("true")))).append("</td><td>")
                    .append(esc(String.valueOf(m.get("predicted")))).append("</td><td>").append(m.get("images"))
                    .append(String.format(Locale.ROOT, "</td><td>%.1f%%</td></tr>", 100 * (Double) m.get("share_of_true_class")));
        }
        sb.append("</table><img src=\"confusion.png\" alt=\"confusion matrix\">");
        sb.append("<h2>Top-k</h2><img src=\"topk.png\" alt=\"top-k accuracy\">");
        sb.append("<h2>Accuracy versus cost</h2><p>").append(esc(costNote(r))).append("</p><img src=\"cost.png\" alt=\"top-1 vs multiply-adds\">");
        if (r.explanations != null) {
            Explanations.Result x = r.explanations;
            sb.append("<h2>What the networks look at</h2><p>").append(esc(explainNote(r))).append("</p><ul>");
            for (int m = 0; m < r.members.size(); m++) {
                sb.append("<li><b>").append(esc(r.members.get(m).name)).append("</b>: ").append(esc(x.methods.get(m)))
                        .append(x.deconvLayers.get(m) == null || x.deconvLayers.get(m).isEmpty() ? "; no deconvnet (not a plain conv chain)"
                                : "; deconvnet from " + esc(x.deconvLayers.get(m))).append("</li>");
            }
            sb.append("</ul>");
            for (String f : explanationFiles(r)) {
                sb.append("<img src=\"").append(esc(f)).append("\" alt=\"").append(esc(f)).append("\"><br>");
            }
            sb.append("<h2>First-layer filters</h2>");
            for (int m = 0; m < r.members.size(); m++) {
                if (x.filters.get(m) != null) {
                    sb.append("<p>").append(esc(r.members.get(m).name)).append("</p><img src=\"").append(esc(filtersFile(r, m)))
                            .append("\" alt=\"first-layer filters\">");
                }
            }
            sb.append("<h2>Most confused pairs: examples</h2>");
            for (int i = 0; i < x.confused.size(); i++) {
                sb.append("<img src=\"confused-").append(i + 1).append(".png\" alt=\"confused pair ").append(i + 1).append("\"><br>");
            }
        }
        sb.append("<p>Machine-readable figures: <a href=\"metrics.json\">metrics.json</a>.</p></body></html>");
        return sb.toString();
    }

    static String costNote(EvalResult r) {
        String refs = kerasCost(r).isEmpty() ? "" : " Grey: Keras Applications' published top-1 and parameters (ImageNet, their recipes), placed at the "
                + "multiply-adds of sparkzoo's build of the same architecture at Keras' input size, since Keras publishes no operation counts.";
        return "Each member at its top-1 against the multiply-adds of one forward pass at its input size (log scale; counted from the network's "
                + "configuration), bubble area proportional to trainable parameters; upper left is better." + refs;
    }

    static String explainNote(EvalResult r) {
        return String.format(Locale.ROOT, "%d images: half drawn with a fixed seed, the rest the most confidently wrong (by the %s's top-1 "
                + "probability); center view. CAM (Zhou et al. 2016) where the head is global average pooling and one linear classifier: "
                + "sum over channels of the classifier weight times the last feature maps. Grad-CAM (Selvaraju et al. 2017) otherwise: "
                + "ReLU of the channels weighted by the spatial mean of the class logit's gradient. Maps are upsampled bilinearly, their "
                + "positive part scaled to its maximum, in jet colors at 50%% opacity. Deconvnet (Zeiler and Fergus 2014): the strongest "
                + "activation of each convolution, projected to pixels through max-unpooling with the forward pass's switches, ReLU and the "
                + "transposed filters. Computed on the executors in %.1f s.", r.explanations.images.stream().map(e -> e.slice + "#" + e.row).distinct().count(),
                r.members.size() > 1 ? "ensemble" : "model", r.explainSeconds);
    }

    private static String points(String signed) {
        if ("best".equals(signed)) {
            return "<td>best member</td>";
        }
        String cls = signed.startsWith("+") && !signed.equals("+0.00") ? "pos" : signed.startsWith("-") ? "neg" : "";
        return "<td class=\"" + cls + "\">" + signed + " pt</td>";
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
