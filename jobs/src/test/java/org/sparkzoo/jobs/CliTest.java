package org.sparkzoo.jobs;

import org.junit.jupiter.api.Test;
import org.sparkzoo.jobs.cli.Cli;
import org.sparkzoo.jobs.train.TrainOptions;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CliTest {

    private static String help(Cli<?> cli) {
        return cli.usage();
    }

    @Test
    void trainJobHelpListsEveryOptionWithItsDefault() {
        String usage = help(TrainJob.cli());
        for (String option : new String[]{"--model", "--data", "--output", "--workers", "--batch-size-per-worker",
                "--averaging-frequency", "--epochs", "--optimizer", "--momentum", "--lr", "--weight-decay", "--lr-schedule",
                "--warmup-epochs", "--label-smoothing", "--resume", "--list-models", "--stochastic-depth", "--drop-path",
                "--weight-decay-mode", "--width-multiplier", "--classifier-dropout"}) {
            assertTrue(usage.contains(option), option + " missing from --help:\n" + usage);
        }
        assertTrue(usage.contains("(default: 32)"), "batch size default shown");
        assertTrue(usage.contains("(default: nesterov)"), "optimizer default shown");
    }

    @Test
    void helpExitsWithZeroAndPrintsUsage() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Cli.CliExit exit = assertThrows(Cli.CliExit.class,
                () -> EvalJob.cli().parse(new String[]{"--help"}, new org.sparkzoo.jobs.eval.EvalOptions(), new PrintStream(out)));
        assertEquals(0, exit.code);
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("--checkpoints"));
    }

    @Test
    void unknownOptionIsOneLineWithExitTwo() {
        Cli.CliExit exit = assertThrows(Cli.CliExit.class,
                () -> TrainJob.cli().parse(new String[]{"--modle", "lenet5"}, new TrainOptions(), new PrintStream(new ByteArrayOutputStream())));
        assertEquals(2, exit.code);
        assertTrue(exit.getMessage().contains("--modle"), exit.getMessage());
        assertFalse(exit.getMessage().contains("\n"), "one line: " + exit.getMessage());
    }

    @Test
    void unknownModelSuggestsTheClosestName() {
        Cli.CliExit exit = assertThrows(Cli.CliExit.class, () -> TrainJob.cli().parse(
                new String[]{"--model", "lenet", "--data", "d", "--output", "o"}, new TrainOptions(), new PrintStream(new ByteArrayOutputStream())));
        assertEquals(2, exit.code);
        assertTrue(exit.getMessage().contains("unknown model 'lenet'"), exit.getMessage());
        assertTrue(exit.getMessage().contains("did you mean lenet5?"), exit.getMessage());
    }

    @Test
    void badChoiceAndMissingRequiredOptionsAreRefused() {
        PrintStream sink = new PrintStream(new ByteArrayOutputStream());
        Cli.CliExit badOptimizer = assertThrows(Cli.CliExit.class, () -> TrainJob.cli().parse(
                new String[]{"--optimizer", "rmsprop", "--data", "d", "--output", "o"}, new TrainOptions(), sink));
        assertTrue(badOptimizer.getMessage().contains("sgd, nesterov, adam"), badOptimizer.getMessage());
        Cli.CliExit noData = assertThrows(Cli.CliExit.class, () -> TrainJob.cli().parse(new String[]{"--output", "o"}, new TrainOptions(), sink));
        assertTrue(noData.getMessage().contains("--data is required"), noData.getMessage());
    }

    /** train-job's one-line refusal of these arguments (with the required --data and --output besides). */
    private static String refusal(String... args) {
        return assertThrows(Cli.CliExit.class, () -> parse(args)).getMessage();
    }

    /** train-job's options from these arguments (with the required --data and --output besides). */
    private static TrainOptions parse(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--data", "d", "--output", "o"));
        return TrainJob.cli().parse(all.toArray(new String[0]), new TrainOptions(), new PrintStream(new ByteArrayOutputStream()));
    }

    @Test
    void updaterAveragingEveryFewRoundsNeedsKeptNetworks() {
        String rebuilt = refusal("--updater-averaging-every", "4", "--rebuild-network");
        assertTrue(rebuilt.contains("drop --rebuild-network"), rebuilt);
        String zero = refusal("--updater-averaging-every", "0");
        assertTrue(zero.contains("must be 1 or more"), zero);
        assertEquals(4, parse("--updater-averaging-every", "4").updaterAveragingEvery);
    }

    @Test
    void bfloat16ParametersNeedSparkzoosTrainingMaster() {
        String stock = refusal("--bf16-parameters", "--training-master", "stock");
        assertTrue(stock.contains("--bf16-parameters needs --training-master sparkzoo"), stock);
        assertTrue(parse("--bf16-parameters").bf16Parameters);
        assertFalse(new TrainOptions().bf16Parameters, "off by default");
    }

    @Test
    void laterOptionsOverrideEarlierOnesSoUserArgumentsBeatTheRecipe() {
        TrainOptions o = TrainJob.cli().parse(new String[]{"--lr", "0.5", "--data", "d", "--output", "o", "--lr", "0.01"},
                new TrainOptions(), new PrintStream(new ByteArrayOutputStream()));
        assertEquals(0.01, o.lr, 1e-12);
    }
}
