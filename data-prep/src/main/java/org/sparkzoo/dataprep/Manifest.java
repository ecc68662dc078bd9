package org.sparkzoo.dataprep;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * {@code manifest.json}, written last beside the shards: the class index, per-split counts and shard list
 * with checksums, the options and seed that produced them, and the quarantined files. The train and eval
 * jobs take the class index from here and never re-derive it.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Manifest {
    public static final String FILE_NAME = "manifest.json";
    public static final int FORMAT_VERSION = 1;
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public int formatVersion = FORMAT_VERSION;
    /** {@link #id()} when written; informative, {@link #id()} recomputes it. */
    public String id;
    /** The class index: label i is classes.get(i), in alphabetical wnid order. */
    public List<ClassInfo> classes = new ArrayList<>();
    /** "train", "val": counts and shards. */
    public Map<String, Split> splits = new LinkedHashMap<>();
    /** Channels of the stored images (1 grey, 3 RGB). */
    public int channels;
    /** "jpeg" or "raw". */
    public String encoding;
    public long seed;
    /** The {@link PrepOptions} that produced this dataset, field by field. */
    public Map<String, Object> options = new LinkedHashMap<>();
    /** Files that could not be used, and why; they are in no shard. */
    public List<QuarantineEntry> quarantine = new ArrayList<>();
    /** Files and folders skipped on purpose (hidden, AppleDouble, not an image, empty class folder). */
    public List<QuarantineEntry> ignored = new ArrayList<>();

    @JsonIgnoreProperties(ignoreUnknown = true)
    public static class ClassInfo {
        public int index;
        public String wnid;
        public String name;

        public ClassInfo() {
        }

        public ClassInfo(int index, String wnid, String name) {
            this.index = index;
            this.wnid = wnid;
            this.name = name;
        }

        @Override
        public String toString() {
            return index + ":" + wnid + " (" + name + ")";
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public static class Split {
        /** Rows in all shards of this split (augmented copies included). */
        public long count;
        /** Rows per wnid (augmented copies included). */
        public Map<String, Long> countsPerClass = new TreeMap<>();
        /** Source image files found per wnid (before quarantine). */
        public Map<String, Long> foundPerClass = new TreeMap<>();
        /** Source files quarantined per wnid. */
        public Map<String, Long> quarantinedPerClass = new TreeMap<>();
        /** Augmented copies included in count. */
        public long augmentedCopies;
        /** Augmented copies per wnid (included in countsPerClass). */
        public Map<String, Long> augmentedPerClass = new TreeMap<>();
        /** Rows per shard; every shard but the last has exactly this many. */
        public int shardSize;
        public List<ShardInfo> shards = new ArrayList<>();

        public List<ShardInfo> shards() {
            return shards;
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public static class ShardInfo {
        /** Relative to the dataset directory, e.g. {@code train/train-00000-of-00010.parquet}. */
        public String file;
        public long rows;
        public long bytes;
        public String sha256;

        public ShardInfo() {
        }

        public ShardInfo(String file, long rows, long bytes, String sha256) {
            this.file = file;
            this.rows = rows;
            this.bytes = bytes;
            this.sha256 = sha256;
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public static class QuarantineEntry {
        public String path;
        public String split;
        public String reason;

        public QuarantineEntry() {
        }

        public QuarantineEntry(String path, String split, String reason) {
            this.path = path;
            this.split = split;
            this.reason = reason;
        }

        @Override
        public String toString() {
            return split + " " + path + ": " + reason;
        }
    }

    public List<ClassInfo> classes() {
        return classes;
    }

    public int numClasses() {
        return classes.size();
    }

    /** The class names in label order (for evaluation reports). */
    public List<String> classNames() {
        List<String> names = new ArrayList<>();
        for (ClassInfo c : classes) names.add(c.name != null ? c.name : c.wnid);
        return names;
    }

    public Split split(String name) {
        Split s = splits.get(name);
        if (s == null) {
            throw new IllegalArgumentException("this dataset has no split '" + name + "'; available: " + splits.keySet());
        }
        return s;
    }

    /** A stable identity: SHA-256 over the class index and every shard's checksum, in order. */
    public String id() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (ClassInfo c : classes) md.update((c.index + "\t" + c.wnid + "\n").getBytes(StandardCharsets.UTF_8));
            for (Map.Entry<String, Split> e : new TreeMap<>(splits).entrySet()) {
                for (ShardInfo s : e.getValue().shards) {
                    md.update((e.getKey() + "\t" + s.file + "\t" + s.sha256 + "\n").getBytes(StandardCharsets.UTF_8));
                }
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 32);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public String toJson() {
        try {
            id = id();
            return MAPPER.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise manifest", e);
        }
    }

    public static Manifest fromJson(String json) throws JsonProcessingException {
        return MAPPER.readValue(json, Manifest.class);
    }

    /** Reads {@code <datasetDirUri>/manifest.json} through Hadoop's FileSystem. */
    public static Manifest read(String datasetDirUri, Configuration conf) {
        Path path = new Path(datasetDirUri, FILE_NAME);
        try {
            FileSystem fs = path.getFileSystem(conf);
            if (!fs.exists(path)) {
                throw new IllegalArgumentException("no manifest at " + path + ": is '" + datasetDirUri
                        + "' a dataset written by prep-job (and did prep-job finish)?");
            }
            byte[] bytes;
            try (InputStream in = fs.open(path)) {
                bytes = in.readAllBytes();
            }
            Manifest m = fromJson(new String(bytes, StandardCharsets.UTF_8));
            if (m.classes == null || m.classes.isEmpty() || m.splits == null) {
                throw new IllegalArgumentException("malformed manifest " + path + ": it has no class index or no splits");
            }
            if (m.formatVersion > FORMAT_VERSION) {
                throw new IllegalArgumentException("manifest " + path + " has format version " + m.formatVersion
                        + ", this build reads up to " + FORMAT_VERSION + ": update sparkzoo");
            }
            return m;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("malformed manifest " + path + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read manifest " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes {@code <datasetDirUri>/manifest.json} atomically: to a temporary name first, then renamed,
     * so a reader never sees a partial manifest.
     */
    public void write(String datasetDirUri, Configuration conf) {
        Path dir = new Path(datasetDirUri);
        Path target = new Path(dir, FILE_NAME);
        Path tmp = new Path(dir, "." + FILE_NAME + "." + UUID.randomUUID() + ".tmp");
        try {
            FileSystem fs = target.getFileSystem(conf);
            try (FSDataOutputStream out = fs.create(tmp, false)) {
                out.write(toJson().getBytes(StandardCharsets.UTF_8));
            }
            if (fs.exists(target)) fs.delete(target, false);   // HDFS rename does not replace
            if (!fs.rename(tmp, target)) throw new IOException("rename " + tmp + " -> " + target + " failed");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write manifest " + target + ": " + e.getMessage(), e);
        }
    }
}
