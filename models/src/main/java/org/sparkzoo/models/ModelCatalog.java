package org.sparkzoo.models;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** One row per registered model for {@code train-job --list-models}: sizes at the default input, 1000 classes. */
public final class ModelCatalog {
    private ModelCatalog() {
    }

    public static final class Row {
        public final String name;
        public final String family;
        public final String paper;
        public final int year;
        public final long trainableParams;
        public final long multiplyAdds;
        public final int defaultInputSize;
        public final int minInputSize;

        Row(ModelSpec spec, long trainableParams, long multiplyAdds) {
            this.name = spec.name;
            this.family = spec.family;
            this.paper = spec.paper;
            this.year = spec.year;
            this.trainableParams = trainableParams;
            this.multiplyAdds = multiplyAdds;
            this.defaultInputSize = spec.defaultInputSize;
            this.minInputSize = spec.minInputSize;
        }
    }

    /** The row of one model, computed from its configuration at the default input size with 1000 classes. */
    public static Row row(ModelSpec spec) {
        ModelConfig config = spec.defaultConfig(1000);
        ComputationGraphConfiguration conf = spec.configuration(config);
        return new Row(spec, ModelStats.trainableParams(conf),
                ModelStats.multiplyAdds(conf, config.channels, config.height, config.width));
    }

    public static List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        for (ModelSpec spec : ModelRegistry.all()) {
            rows.add(row(spec));
        }
        return rows;
    }

    /** The table {@code --list-models} prints: one line per model, sizes at the default input with 1000 classes. */
    public static String listModelsTable() {
        StringBuilder sb = new StringBuilder();
        String format = "%-20s %-11s %5s %9s %9s %8s %5s  %s%n";
        sb.append(String.format(Locale.ROOT, format, "model", "family", "year", "params", "mult-adds", "default", "min", "paper"));
        for (Row r : rows()) {
            sb.append(String.format(Locale.ROOT, format, r.name, r.family, r.year, millions(r.trainableParams),
                    giga(r.multiplyAdds), r.defaultInputSize + "px", r.minInputSize, r.paper));
        }
        sb.append("params: trainable parameters (batch-norm running statistics excluded); mult-adds: one image's forward"
                + " pass through convolutions and fully connected layers; 1000 classes, default input; min: smallest input side.\n");
        return sb.toString();
    }

    private static String millions(long n) {
        return String.format(Locale.ROOT, "%.2fM", n / 1e6);
    }

    private static String giga(long n) {
        return n >= 1e9 ? String.format(Locale.ROOT, "%.2fG", n / 1e9) : String.format(Locale.ROOT, "%.0fM", n / 1e6);
    }

    public static void main(String[] args) {
        System.out.print(listModelsTable());
    }
}
