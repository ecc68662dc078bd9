package org.sparkzoo.jobs;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.sparkzoo.dataprep.io.HadoopConf;
import org.sparkzoo.jobs.cli.Cli;
import org.sparkzoo.jobs.eval.EvalOptions;
import org.sparkzoo.jobs.eval.EvalReport;
import org.sparkzoo.jobs.eval.EvalResult;
import org.sparkzoo.jobs.eval.Evaluator;
import org.sparkzoo.jobs.train.MemoryCheck;
import org.sparkzoo.models.NativeKernels;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** eval-job: top-1 / top-5, per class, confusion and ensembles of checkpoints over the validation shards. */
public final class EvalJob {
    private EvalJob() {
    }

    public static Cli<EvalOptions> cli() {
        EvalOptions d = new EvalOptions();
        return new Cli<EvalOptions>("eval-job", "distributed top-1/top-5, per-class and ensemble evaluation of trained models")
                .string("checkpoints", "<uri,uri,...>", null, "model.zip or checkpoint files; several make an ensemble",
                        (o, v) -> o.checkpoints = Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toList()))
                .string("data", "<uri>", null, "dataset folder written by prep-job", (o, v) -> o.data = v)
                .string("output", "<uri>", null, "report folder: metrics.json, report.md, report.html, PNG charts", (o, v) -> o.output = v)
                .string("split", "<name>", d.split, "split of the manifest to evaluate", (o, v) -> o.split = v)
                .choice("views", EvalOptions.VIEWS, d.views, "test-time views, softmax averaged per image (each image counts once): "
                        + "center = resize the short side to --resize-ratio x input, center crop (1 pass); "
                        + "ten-crop = the 4 corners and the center of that resized image, each also mirrored (10 passes, torchvision's TenCrop); "
                        + "multi-scale = center crops after resizing the short side to 1.0, 1.14 and 1.3 x input (3 passes)", (o, v) -> o.views = v)
                .choice("ensemble", List.of("mean", "weighted", "vote"), d.ensemble, "how members are combined", (o, v) -> o.ensemble = v)
                .string("weights", "<w,w,...>", "", "member weights for --ensemble weighted",
                        (o, v) -> o.weights = EvalOptions.parseWeights(v))
                .decimal("resize-ratio", String.format(Locale.ROOT, "%.4f (256/224)", d.resizeRatio),
                        "resize the short side to ratio x model input before the center or ten-crop crops (1 = no zoom; >= 1)", (o, v) -> o.resizeRatio = v)
                .integer("slice-rows", d.sliceRows, "images per task", (o, v) -> o.sliceRows = v)
                .integer("explain", d.explain, "explain N validation images (half a seeded sample, half the most confidently wrong): "
                        + "class activation maps (CAM, or Grad-CAM without global average pooling), deconvnet reconstructions for plain "
                        + "conv chains (AlexNet, ZFNet, VGG, LeNet), first-layer filters and examples of the most confused pairs", (o, v) -> o.explain = v)
                .check(o -> o.checkpoints.isEmpty() ? "--checkpoints is required: one or more model.zip files" : null)
                .check(o -> o.data == null ? "--data is required: the dataset folder written by prep-job" : null)
                .check(o -> o.output == null ? "--output is required: the report folder" : null)
                .check(o -> o.weightsProblem(o.checkpoints.size()))
                .check(o -> o.explain < 0 ? "--explain must be a number of images >= 0 (0 = no explanations), got " + o.explain : null);
    }

    public static void main(String[] args) {
        JobMain.run("eval-job", () -> {
            EvalOptions options = cli().parse(args, new EvalOptions(), System.out);
            MemoryCheck.checkContainers(new SparkConf()); // its executors run ND4J too
            NativeMemory.sizeFromMachine(); // before ND4J loads
            NativeKernels.enable();
            SparkSession spark = SparkSessions.create("sparkzoo eval-job");
            try {
                // an unreachable report folder fails now, not after the evaluation
                options.output = HadoopConf.qualify(options.output, spark.sparkContext().hadoopConfiguration());
                EvalResult r = Evaluator.evaluate(spark, options.checkpoints, options.data, options);
                String report = EvalReport.write(r, options, options.output, spark.sparkContext().hadoopConfiguration());
                for (EvalResult.Scores s : EvalReport.all(r)) {
                    System.out.printf(Locale.ROOT, "%-28s top-1 %.4f  top-5 %.4f  (%d images)%n", s.name, s.top1, s.top5, s.count);
                }
                System.out.println("report: " + report);
            } finally {
                spark.stop();
            }
        });
    }
}
