package org.sparkzoo.jobs.eval;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkzoo.dataprep.ImageRecord;
import org.sparkzoo.jobs.EvalJob;
import org.sparkzoo.jobs.checkpoint.Checkpoints;
import org.sparkzoo.jobs.cli.Cli;
import org.sparkzoo.jobs.data.ImageBatches;
import org.sparkzoo.jobs.data.ShardSlice;
import org.sparkzoo.jobs.explain.ClassMaps;

import javax.imageio.ImageIO;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * eval-job --explain on real Fashion-MNIST shards through Spark: a trained lenet5 (Grad-CAM, deconvnet) and a
 * resnet18 at 64 px (global average pooling: CAM, 2x2 maps) as an ensemble.
 */
class EvalExplainTest {
    private static final double U = Math.pow(2, -24);
    private static final int EXPLAIN = 4;
    private static FashionMnistRun run;
    private static String gap;
    private static EvalOptions options;
    private static EvalResult result;

    @BeforeAll
    static void explain() throws IOException {
        run = FashionMnistRun.get();
        gap = run.initialized("resnet18", 64, 5, "resnet18-explain");
        options = run.options("center", run.modelA, gap);
        options.explain = EXPLAIN;
        result = Evaluator.evaluate(run.spark, options.checkpoints, run.data, options);
    }

    @Test
    void eachMemberExplainsTheChosenImagesWithTheMethodItsHeadAllows() {
        Explanations.Result x = result.explanations;
        assertEquals(2 * EXPLAIN, x.images.size(), "every chosen image, once per member");
        Set<String> images = new HashSet<>();
        long wrong = 0;
        for (Explanations.Explained e : x.images) {
            images.add(e.slice + "#" + e.row);
            assertEquals(e.member == 0 ? ClassMaps.GRAD_CAM : ClassMaps.CAM, e.method, result.members.get(e.member).name);
            assertEquals(e.member == 0 ? List.of("conv", "conv_2") : List.of(), e.deconvLayers, "deconvnet only for lenet5's plain chain");
            wrong += "confidently wrong".equals(e.why) ? 1 : 0;
        }
        assertEquals(EXPLAIN, images.size());
        assertEquals(2 * (EXPLAIN / 2), wrong, "half the images are the most confidently wrong ones (both members)");
        assertNotNull(x.filters.get(0));
        assertNotNull(x.filters.get(1));
        assertFalse(x.confused.isEmpty());
        for (Explanations.Pair p : x.confused) {
            assertTrue(result.ensemble.confusion[p.trueClass][p.predictedClass] == p.images && p.images > 0);
            assertFalse(p.examples.isEmpty());
        }
    }

    /** The job's CAM equals sum_k W[k][c] A_k from the checkpoint's own network on the same image, computed here by loops. */
    @Test
    void camComputedByTheJobEqualsOneFromTheLastFeatureMapsAndClassifierWeights() {
        ComputationGraph net = Checkpoints.load(gap, run.hadoop, false).network;
        ClassMaps.Plan plan = ClassMaps.plan(net.getConfiguration(), org.deeplearning4j.nn.conf.inputs.InputType.convolutional(64, 64, 1));
        int checked = 0;
        for (Explanations.Explained e : result.explanations.images) {
            if (e.member != 1) {
                continue;
            }
            ImageRecord record = ShardSlice.parse(e.slice).read(run.hadoop).get(e.row);
            INDArray x = ImageBatches.features(List.of(record), View.parse("center", options.resizeRatio).get(0).transform(64), 1, 64, null);
            INDArray a = net.feedForward(x, false).get(plan.features);
            INDArray w = net.getLayer(plan.classifier).getParam("W");
            assertEquals(record.label, e.label);
            for (int n = 0; n < 2; n++) {
                int c = n == 0 ? e.label : e.predicted;
                float[][] map = n == 0 ? e.mapTrue : e.mapPredicted;
                assertEquals(a.size(2), map.length);
                assertEquals(2, map.length, "resnet18 at 64 px ends in 2x2 maps");
                double scale = 0;
                for (int i = 0; i < map.length; i++) {
                    for (int j = 0; j < map[0].length; j++) {
                        double sum = 0, abs = 0;
                        for (int k = 0; k < a.size(1); k++) {
                            double t = w.getDouble(k, c) * a.getDouble(0, k, i, j);
                            sum += t;
                            abs += Math.abs(t);
                        }
                        scale = Math.max(scale, Math.abs(sum));
                        assertEquals(sum, map[i][j], (a.size(1) + 1) * U * abs, "CAM of class " + c + " at (" + i + "," + j + ")");
                    }
                }
                assertTrue(scale > 0);
            }
            checked++;
        }
        assertEquals(EXPLAIN, checked);
    }

    @Test
    void theReportShowsEveryPictureItWrote() throws IOException {
        Path dir = Files.createTempDirectory("sparkzoo-explain-report");
        String html = EvalReport.write(result, options, dir.toUri().toString(), run.hadoop);
        String page = Files.readString(Path.of(java.net.URI.create(html)), StandardCharsets.UTF_8);
        String md = Files.readString(dir.resolve("report.md"), StandardCharsets.UTF_8);
        List<String> pictures;
        try (var files = Files.list(dir)) {
            pictures = files.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".png")).sorted().toList();
        }
        assertEquals(2 * EXPLAIN, pictures.stream().filter(f -> f.startsWith("explain-")).count(), pictures.toString());
        assertEquals(2, pictures.stream().filter(f -> f.startsWith("filters-")).count(), pictures.toString());
        assertTrue(pictures.contains("cost.png") && pictures.contains("confused-1.png"), pictures.toString());
        for (String f : pictures) {
            assertTrue(page.contains("src=\"" + f + "\""), "report.html shows " + f);
            assertTrue(md.contains("(" + f + ")"), "report.md shows " + f);
            assertNotNull(ImageIO.read(new ByteArrayInputStream(Files.readAllBytes(dir.resolve(f)))), f + " is a PNG");
        }
        assertTrue(page.contains("Grad-CAM") && page.contains("CAM on "), "the method per member is named");
    }

    @Test
    void badExplainCountsAreOneLineErrors() {
        for (String bad : new String[]{"-1", "x"}) {
            Cli.CliExit exit = assertThrows(Cli.CliExit.class, () -> EvalJob.cli().parse(new String[]{"--checkpoints", "m.zip", "--data", "d",
                    "--output", "o", "--explain", bad}, new EvalOptions(), new PrintStream(new ByteArrayOutputStream())));
            assertEquals(2, exit.code);
            assertTrue(exit.getMessage().contains("--explain"), exit.getMessage());
            assertFalse(exit.getMessage().contains("\n"), "one line: " + exit.getMessage());
        }
    }
}
