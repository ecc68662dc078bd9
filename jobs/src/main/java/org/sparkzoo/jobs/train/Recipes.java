package org.sparkzoo.jobs.train;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.sparkzoo.jobs.cli.UserError;
import org.sparkzoo.models.ModelRegistry;
import org.sparkzoo.models.ModelSpec;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Per-model training recipes: {@code conf/recipes/<model>.properties}, else {@code <family>.properties}, else
 * {@code default.properties}; each line is {@code option = value} with train-job's option names. The recipe's
 * options go before the user's on the command line, so anything the user passes wins.
 */
public final class Recipes {
    private Recipes() {
    }

    /**
     * The recipe as command-line arguments; {@code file} (any Hadoop URI, opened with {@code hadoop}: the job's
     * spark.hadoop.* settings) replaces the bundled lookup.
     */
    public static List<String> args(String model, String file, Configuration hadoop) throws IOException {
        Properties p = new Properties();
        String source;
        if (file != null && !file.isEmpty()) {
            Path path = new Path(file);
            try (InputStream in = path.getFileSystem(hadoop).open(path)) {
                p.load(new InputStreamReader(in, StandardCharsets.UTF_8));
            } catch (java.io.FileNotFoundException e) {
                throw new UserError("recipe " + file + " does not exist");
            }
            source = file;
        } else {
            source = bundled(model, p);
        }
        List<String> args = new ArrayList<>();
        for (Map.Entry<String, String> e : new TreeMap<>(toMap(p)).entrySet()) {
            String key = e.getKey().trim();
            String value = e.getValue().trim();
            if (key.equals("model") || key.equals("recipe")) {
                continue;
            }
            if (value.equalsIgnoreCase("true") && isFlag(key)) {
                args.add("--" + key);
            } else if (!value.equalsIgnoreCase("false") || !isFlag(key)) {
                args.add("--" + key);
                args.add(value);
            }
        }
        if (source != null) {
            System.out.println("recipe: " + source + " " + String.join(" ", args));
        }
        return args;
    }

    private static boolean isFlag(String key) {
        return List.of("resume", "overwrite", "training-stats").contains(key);
    }

    private static String bundled(String model, Properties p) throws IOException {
        List<String> candidates = new ArrayList<>();
        candidates.add(model.toLowerCase(Locale.ROOT));
        if (ModelRegistry.contains(model)) {
            ModelSpec spec = ModelRegistry.get(model);
            candidates.add(spec.family.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-"));
        }
        candidates.add("default");
        for (String name : candidates) {
            String resource = "recipes/" + name + ".properties";
            try (InputStream in = Recipes.class.getClassLoader().getResourceAsStream(resource)) {
                if (in != null) {
                    p.load(new InputStreamReader(in, StandardCharsets.UTF_8));
                    return "conf/" + resource;
                }
            }
        }
        return null;
    }

    private static Map<String, String> toMap(Properties p) {
        Map<String, String> m = new TreeMap<>();
        for (String k : p.stringPropertyNames()) {
            m.put(k, p.getProperty(k));
        }
        return m;
    }
}
