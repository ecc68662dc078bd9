package org.sparkzoo.dataprep.source;

import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/** Parsers for ImageNet's label and mapping files. */
public final class LabelFiles {
    public static final String SYNSET_MAPPING = "LOC_synset_mapping.txt";
    public static final String KAGGLE_VAL_SOLUTION = "LOC_val_solution.csv";
    public static final String DEVKIT_GROUND_TRUTH = "ILSVRC2012_validation_ground_truth.txt";
    public static final String[] DEVKIT_ID_MAPPINGS = {"ILSVRC2012_mapping.txt", "synsets.txt"};

    private LabelFiles() {
    }

    static String readText(FileSystem fs, Path p) throws IOException {
        try (InputStream in = fs.open(p)) {
            String s = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return s.startsWith("\uFEFF") ? s.substring(1) : s;
        }
    }

    /** {@code <wnid> <name...>} per line -> wnid -> name, sorted by wnid. */
    public static TreeMap<String, String> synsetMapping(FileSystem fs, Path p) throws IOException {
        TreeMap<String, String> m = new TreeMap<>();
        int lineNo = 0;
        for (String line : readText(fs, p).split("\r?\n")) {
            lineNo++;
            line = line.strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            String[] parts = line.split("\\s+", 2);
            if (m.put(parts[0], parts.length > 1 ? parts[1] : parts[0]) != null) {
                throw new IllegalArgumentException(p + " line " + lineNo + ": wnid " + parts[0] + " appears twice");
            }
        }
        if (m.isEmpty()) throw new IllegalArgumentException(p + " holds no '<wnid> <name>' lines");
        return m;
    }

    /** Kaggle's {@code ImageId,PredictionString}: image id (file name without extension) -> first wnid. */
    public static Map<String, String> kaggleValSolution(FileSystem fs, Path p) throws IOException {
        Map<String, String> m = new HashMap<>();
        String[] lines = readText(fs, p).split("\r?\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || (i == 0 && line.startsWith("ImageId"))) continue;
            int comma = line.indexOf(',');
            if (comma < 0) throw new IllegalArgumentException(p + " line " + (i + 1) + ": expected 'ImageId,PredictionString', got '" + line + "'");
            String pred = line.substring(comma + 1).strip();
            if (pred.startsWith("\"")) pred = pred.substring(1);
            String wnid = pred.split("\\s+", 2)[0];
            m.put(line.substring(0, comma).strip(), wnid);
        }
        return m;
    }

    /**
     * The devkit's ground truth (line i = ILSVRC2012_ID of {@code ILSVRC2012_val_<i>}) mapped to wnids:
     * image id -> wnid.
     */
    public static Map<String, String> devkitGroundTruth(FileSystem fs, Path truth, Map<Integer, String> idToWnid) throws IOException {
        Map<String, String> m = new HashMap<>();
        String[] lines = readText(fs, truth).split("\r?\n");
        int n = 0;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) continue;
            n++;
            int id;
            try {
                id = Integer.parseInt(line);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(truth + " line " + (i + 1) + ": expected an ILSVRC2012_ID, got '" + line + "'");
            }
            String wnid = idToWnid.get(id);
            if (wnid == null) throw new IllegalArgumentException(truth + " line " + (i + 1) + ": ILSVRC2012_ID " + id + " is not in the id mapping");
            m.put(String.format("ILSVRC2012_val_%08d", n), wnid);
        }
        return m;
    }

    /** {@code <ILSVRC2012_ID> <wnid> [words]} per line -> id -> wnid. */
    public static Map<Integer, String> devkitIdMapping(FileSystem fs, Path p) throws IOException {
        Map<Integer, String> m = new LinkedHashMap<>();
        int lineNo = 0;
        for (String line : readText(fs, p).split("\r?\n")) {
            lineNo++;
            line = line.strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            String[] parts = line.split("\\s+");
            try {
                if (parts.length < 2 || !parts[1].matches("n\\d+")) throw new NumberFormatException();
                m.put(Integer.parseInt(parts[0]), parts[1]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(p + " line " + lineNo + ": expected '<ILSVRC2012_ID> <wnid>', got '" + line + "'");
            }
        }
        return m;
    }
}
