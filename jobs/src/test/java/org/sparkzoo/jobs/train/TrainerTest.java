package org.sparkzoo.jobs.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkzoo.jobs.JobMain.UserError;
import org.sparkzoo.jobs.eval.FashionMnistRun;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** train-job's loop on real Fashion-MNIST shards, in a local[2] SparkSession (the cluster tests run it for real). */
class TrainerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static TrainOptions options(FashionMnistRun f, Path out) {
        TrainOptions o = new TrainOptions();
        o.model = "lenet5";
        o.data = f.data;
        o.output = out.toUri().toString();
        o.imageSize = 28;
        o.channels = 1;
        o.workers = 2;
        o.batchSizePerWorker = 32;
        o.averagingFrequency = 2;
        o.optimizer = "nesterov";
        o.lr = 0.05;
        o.lrReferenceBatch = 64;
        o.augment = "none";
        o.epochs = 1;
        o.validateEvery = 0;
        return o;
    }

    private static List<JsonNode> rounds(Path run) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            JsonNode n = JSON.readTree(line);
            if ("round".equals(n.get("type").asText())) {
                out.add(n);
            }
        }
        return out;
    }

    @Test
    void anEpochTrainsOnEveryImageOnceAndTheLossFalls() throws Exception {
        FashionMnistRun f = FashionMnistRun.get();
        Path run = Files.createTempDirectory("sparkzoo-train-epoch");
        new Trainer(f.spark, options(f, run)).run();
        List<JsonNode> rounds = rounds(run);
        assertEquals(f.manifest.split("train").count, rounds.stream().mapToLong(r -> r.get("images").asLong()).sum());
        double first = rounds.get(0).get("loss").asDouble();
        double last = rounds.get(rounds.size() - 1).get("loss").asDouble();
        assertTrue(last < 0.5 * first, "loss " + first + " -> " + last);
        assertTrue(Files.exists(run.resolve("model.zip")) && Files.exists(run.resolve("training-curve.png")));
    }

    @Test
    void keepingNetworksAliveBetweenRoundsTrainsExactlyLikeRebuildingThem() throws Exception {
        FashionMnistRun f = FashionMnistRun.get();
        INDArray[] params = new INDArray[2];
        for (int i = 0; i < 2; i++) {
            Path run = Files.createTempDirectory("sparkzoo-train-reuse");
            TrainOptions o = options(f, run);
            o.maxRounds = 4;
            o.reuseNetwork = i == 0;
            new Trainer(f.spark, o).run();
            params[i] = Checkpoints.load(run.resolve("model.zip").toString(), f.hadoop, false).network.params();
        }
        double diff = params[0].sub(params[1]).norm2Number().doubleValue() / params[1].norm2Number().doubleValue();
        assertTrue(diff < 1e-5, "reused vs rebuilt networks diverged: relative difference " + diff);
    }

    @Test
    void aRunIsNotOverwrittenAndResumeRefusesAnotherModel() throws Exception {
        FashionMnistRun f = FashionMnistRun.get();
        Path run = Files.createTempDirectory("sparkzoo-train-resume");
        TrainOptions o = options(f, run);
        o.maxRounds = 2;
        new Trainer(f.spark, o).run();
        UserError exists = assertThrows(UserError.class, () -> new Trainer(f.spark, options(f, run)).run());
        assertTrue(exists.getMessage().contains("--resume") && exists.getMessage().contains("--overwrite"), exists.getMessage());
        TrainOptions other = options(f, run);
        other.model = "resnet18";
        other.resume = true;
        UserError refused = assertThrows(UserError.class, () -> new Trainer(f.spark, other).run());
        assertTrue(refused.getMessage().contains("model lenet5 vs --model resnet18"), refused.getMessage());
    }
}
