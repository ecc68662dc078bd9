package org.sparkzoo.jobs.cli;

import scala.collection.JavaConverters;
import scala.util.Left;
import scala.util.Right;
import scopt.OEffect;
import scopt.OParser;
import scopt.OParserBuilder;
import scopt.Read;
import scopt.Read$;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A thin Java face on scopt: each job declares its options once (name, value, default, help) and gets
 * {@code --help} with every default, and one-line errors for unknown options and bad values.
 *
 * @param <C> the mutable options object the parser fills in
 */
public final class Cli<C> {
    private final String program;
    private final OParserBuilder<C> b = scopt.OParser$.MODULE$.builder();
    private final List<OParser<?, C>> parsers = new ArrayList<>();
    private final List<Function<C, String>> checks = new ArrayList<>();

    public Cli(String program, String description) {
        this.program = program;
        parsers.add(b.programName(program));
        parsers.add(b.head(JavaConverters.asScalaBuffer(List.of(program + ": " + description)).toSeq()));
        parsers.add(b.help("help").text("print this help and exit"));
    }

    public Cli<C> string(String name, String valueName, Object defaultValue, String help, BiConsumer<C, String> set) {
        return option(name, valueName, defaultValue, help, Read$.MODULE$.stringRead(), set);
    }

    public Cli<C> integer(String name, Object defaultValue, String help, BiConsumer<C, Integer> set) {
        return option(name, "<int>", defaultValue, help, (Read<Integer>) (Read<?>) Read$.MODULE$.intRead(), set);
    }

    public Cli<C> longValue(String name, Object defaultValue, String help, BiConsumer<C, Long> set) {
        return option(name, "<long>", defaultValue, help, (Read<Long>) (Read<?>) Read$.MODULE$.longRead(), set);
    }

    public Cli<C> decimal(String name, Object defaultValue, String help, BiConsumer<C, Double> set) {
        return option(name, "<num>", defaultValue, help, (Read<Double>) (Read<?>) Read$.MODULE$.doubleRead(), set);
    }

    /** A value restricted to a fixed set of words, e.g. {@code --optimizer sgd|nesterov|adam}. */
    public Cli<C> choice(String name, List<String> choices, Object defaultValue, String help, BiConsumer<C, String> set) {
        OParser<String, C> p = b.opt(name, Read$.MODULE$.stringRead())
                .unbounded()
                .valueName(String.join("|", choices))
                .text(withDefault(help, defaultValue))
                .validate(v -> choices.contains(v.toLowerCase(Locale.ROOT))
                        ? Right.apply(scala.runtime.BoxedUnit.UNIT)
                        : Left.apply("--" + name + " must be one of " + String.join(", ", choices) + ", got '" + v + "'"))
                .action((v, c) -> {
                    set.accept(c, v.toLowerCase(Locale.ROOT));
                    return c;
                });
        parsers.add(p);
        return this;
    }

    public Cli<C> flag(String name, String help, Consumer<C> set) {
        OParser<scala.runtime.BoxedUnit, C> p = b.opt(name, Read$.MODULE$.unitRead()).unbounded().text(help).action((v, c) -> {
            set.accept(c);
            return c;
        });
        parsers.add(p);
        return this;
    }

    /** A cross-option check run after parsing: return an error message, or null when the options are fine. */
    public Cli<C> check(Function<C, String> check) {
        checks.add(check);
        return this;
    }

    public Cli<C> note(String text) {
        parsers.add(b.note(text));
        return this;
    }

    private <A> Cli<C> option(String name, String valueName, Object defaultValue, String help, Read<A> read, BiConsumer<C, A> set) {
        // unbounded: a recipe's value and the user's may both be given; the later one wins
        OParser<A, C> p = b.opt(name, read).unbounded().valueName(valueName).text(withDefault(help, defaultValue)).action((v, c) -> {
            set.accept(c, v);
            return c;
        });
        parsers.add(p);
        return this;
    }

    private static String withDefault(String help, Object defaultValue) {
        if (defaultValue == null) {
            return help + " (required)";
        }
        String shown = String.valueOf(defaultValue);
        return shown.isEmpty() ? help : help + " (default: " + shown + ")";
    }

    public String usage() {
        return scopt.OParser$.MODULE$.usage(parser());
    }

    private OParser<?, C> parser() {
        return scopt.OParser$.MODULE$.sequence(parsers.get(0), JavaConverters.asScalaBuffer(parsers.subList(1, parsers.size())).toSeq());
    }

    /**
     * Parses {@code args} into {@code init}. Returns the options, or throws {@link CliExit} carrying the exit code:
     * 0 after {@code --help}, 2 with a one-line message for a usage error.
     */
    public C parse(String[] args, C init, PrintStream out) {
        scala.Tuple2<scala.Option<C>, scala.collection.immutable.List<OEffect>> result =
                scopt.OParser$.MODULE$.runParser(parser(), JavaConverters.asScalaBuffer(List.of(args)).toSeq(), init);
        List<String> errors = new ArrayList<>();
        boolean terminate = false;
        for (OEffect e : JavaConverters.seqAsJavaList(result._2())) {
            if (e instanceof OEffect.DisplayToOut) {
                out.println(((OEffect.DisplayToOut) e).msg());
            } else if (e instanceof OEffect.ReportError) {
                errors.add(((OEffect.ReportError) e).msg());
            } else if (e instanceof OEffect.Terminate) {
                terminate = true;
            }
        }
        if (!errors.isEmpty()) {
            throw new CliExit(2, program + ": " + errors.get(0).replaceFirst("^Unknown option", "unknown option")
                    + " (" + program + " --help lists the options)");
        }
        if (terminate || result._1().isEmpty()) {
            throw new CliExit(0, null);
        }
        C c = result._1().get();
        for (Function<C, String> check : checks) {
            String error = check.apply(c);
            if (error != null) {
                throw new CliExit(2, program + ": " + error);
            }
        }
        return c;
    }

    /** Ends a job from its main: the exit code, and the one line to print on stderr (null for none). */
    public static final class CliExit extends RuntimeException {
        public final int code;

        public CliExit(int code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }
}
