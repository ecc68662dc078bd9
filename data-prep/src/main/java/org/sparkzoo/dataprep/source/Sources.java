package org.sparkzoo.dataprep.source;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.sparkzoo.dataprep.Manifest;
import org.sparkzoo.dataprep.PrepOptions;
import org.sparkzoo.dataprep.idx.IdxFile;
import org.sparkzoo.dataprep.image.ImageInfo;
import org.sparkzoo.dataprep.io.HadoopConf;
import org.sparkzoo.dataprep.io.TarIndex;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Finds the images of a dataset on any Hadoop file system and plans the work: the class index, one
 * {@link WorkItem} per source image with its label, and the files skipped on purpose.
 */
public final class Sources {
    public static final String TRAIN = "train";
    public static final String VAL = "val";
    public static final String TRAIN_TAR = "ILSVRC2012_img_train.tar";
    public static final String UNLABELED = "<unlabeled>";
    private static final List<String> IMAGE_EXTENSIONS = List.of("jpeg", "jpg", "png");

    private Sources() {
    }

    public static SourcePlan plan(PrepOptions o, Configuration conf) throws IOException {
        Path root = new Path(HadoopConf.qualify(o.input, conf));
        FileSystem fs = root.getFileSystem(conf);
        if (!fs.exists(root)) {
            throw new IllegalArgumentException("input " + root + " does not exist: pass the dataset root (the folder that holds "
                    + "train/ and val/, IDX files or " + TRAIN_TAR + ")");
        }
        String layout = o.layout;
        if (layout.equals("auto")) layout = findIdx(fs, root) != null ? "idx" : "imagenet";
        SourcePlan plan = layout.equals("idx") ? idx(fs, root, o) : imagenet(fs, root, o);
        plan.layout = layout;
        return plan;
    }

    static boolean isHidden(String name) {
        return name.startsWith(".") || name.startsWith("_");
    }

    static boolean isImageName(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 && IMAGE_EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /** Path of {@code p} relative to {@code root}, unescaped, with '/' separators. */
    static String relative(Path root, Path p) {
        String r = root.toUri().getPath(), s = p.toUri().getPath();
        if (!r.endsWith("/")) r += "/";
        return s.startsWith(r) ? s.substring(r.length()) : s;
    }

    // ---------------------------------------------------------------- IDX

    static Path[] findIdx(FileSystem fs, Path root) throws IOException {
        if (!fs.getFileStatus(root).isDirectory()) return null;
        Path[] found = new Path[4];
        for (FileStatus st : fs.listStatus(root)) {
            String n = st.getPath().getName().toLowerCase(Locale.ROOT);
            if (!st.isFile() || !n.contains("idx")) continue;
            boolean test = n.startsWith("t10k") || n.contains("test");
            boolean images = n.contains("idx3");
            int slot = (test ? 2 : 0) + (images ? 0 : 1);
            if (found[slot] == null || st.getPath().getName().compareTo(found[slot].getName()) < 0) found[slot] = st.getPath();
        }
        return found[0] != null && found[1] != null ? found : null;
    }

    private static IdxFile readIdx(FileSystem fs, Path p) throws IOException {
        try (InputStream in = fs.open(p)) {
            return IdxFile.read(in, p.toString());
        }
    }

    private static SourcePlan idx(FileSystem fs, Path root, PrepOptions o) throws IOException {
        Path[] f = findIdx(fs, root);
        if (f == null) {
            throw new IllegalArgumentException("layout idx: no train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] in " + root);
        }
        SourcePlan plan = new SourcePlan();
        plan.channelsHint = 1;
        IdxFile trainImages = readIdx(fs, f[0]), trainLabels = readIdx(fs, f[1]);
        int numClasses = 0;
        for (int i = 0; i < trainLabels.count; i++) numClasses = Math.max(numClasses, trainLabels.label(i) + 1);
        String[] names = o.classNames != null ? o.classNames.split(",") : IdxFile.defaultNames(root.toString(), numClasses);
        if (names.length < numClasses) throw new IllegalArgumentException("--class-names has " + names.length + " names for " + numClasses + " classes");
        for (int c = 0; c < numClasses; c++) plan.classes.add(new Manifest.ClassInfo(c, IdxFile.pseudoWnid(c), names[c].trim()));
        plan.notes.add("IDX input " + f[0].getName() + " (" + trainImages.count + " images, " + numClasses
                + " classes; class ids are pseudo-wnids n90000000+label)");
        plan.items.put(TRAIN, idxItems(TRAIN, f[0], trainImages, trainLabels, o.limitPerClass));
        if (f[2] != null && f[3] != null) {
            plan.items.put(VAL, idxItems(VAL, f[2], readIdx(fs, f[2]), readIdx(fs, f[3]), o.limitPerClass));
        }
        return plan;
    }

    private static List<WorkItem> idxItems(String split, Path file, IdxFile images, IdxFile labels, int limitPerClass) {
        if (images.count != labels.count || !images.isImages()) {
            throw new IllegalArgumentException("IDX images and labels of " + split + " do not pair up (" + images.count + " vs " + labels.count + ")");
        }
        List<WorkItem> out = new ArrayList<>(images.count);
        int[] perClass = new int[256];
        for (int i = 0; i < images.count; i++) {
            int label = labels.label(i);
            if (limitPerClass > 0 && perClass[label]++ >= limitPerClass) continue;
            WorkItem w = new WorkItem(split, file.getName() + "#" + i, null, label, IdxFile.pseudoWnid(label));
            w.pixels = images.image(i);
            w.pixelsHeight = images.rows;
            w.pixelsWidth = images.cols;
            out.add(w);
        }
        return out;
    }

    // ---------------------------------------------------------------- ImageNet

    private static SourcePlan imagenet(FileSystem fs, Path root, PrepOptions o) throws IOException {
        SourcePlan plan = new SourcePlan();
        Path tar = null;
        Path imageRoot = root;
        if (fs.getFileStatus(root).isFile()) {
            tar = root;
            imageRoot = root.getParent();
            root = imageRoot;
        } else {
            Path kaggle = new Path(root, "ILSVRC/Data/CLS-LOC");
            if (fs.exists(kaggle)) {
                imageRoot = kaggle;
                plan.notes.add("Kaggle layout: images under " + kaggle);
            }
        }
        Path trainDir = new Path(imageRoot, o.trainDir);
        if (tar == null && !fs.exists(trainDir)) {
            for (Path candidate : new Path[]{new Path(imageRoot, TRAIN_TAR), new Path(root, TRAIN_TAR)}) {
                if (fs.exists(candidate)) {
                    tar = candidate;
                    break;
                }
            }
            if (tar == null) {
                throw new IllegalArgumentException("no training images: " + trainDir + " does not exist and there is no " + TRAIN_TAR
                        + " in " + root + " (set --train-dir, or --layout idx for IDX files)");
            }
        }
        List<Path> labelDirs = labelSearchDirs(root, imageRoot, new Path(imageRoot, o.valDir));

        // class index
        TreeMap<String, String> synsets = null;
        Path synsetFile = o.synsetMapping != null ? new Path(o.synsetMapping) : find(fs, labelDirs, LabelFiles.SYNSET_MAPPING);
        if (synsetFile != null) {
            synsets = LabelFiles.synsetMapping(fs, synsetFile);
            plan.notes.add("class index from " + synsetFile + " (" + synsets.size() + " classes, alphabetical wnid order)");
        }
        TreeMap<String, List<WorkItem>> trainByClass = tar != null
                ? scanTrainTar(fs, tar, root, o, plan)
                : scanClassFolders(fs, trainDir, root, TRAIN, o, plan);
        if (synsets == null) {
            synsets = new TreeMap<>();
            for (Map.Entry<String, List<WorkItem>> e : trainByClass.entrySet()) {
                if (e.getValue().isEmpty()) {
                    plan.ignored.add(new Manifest.QuarantineEntry(relative(root, new Path(trainDir, e.getKey())), TRAIN, "class folder without images: not a class"));
                } else {
                    synsets.put(e.getKey(), e.getKey());
                }
            }
            plan.notes.add("class index from the " + synsets.size() + " train class folders that hold images (sorted by name)");
        }
        if (synsets.isEmpty()) throw new IllegalArgumentException("no classes found in " + (tar != null ? tar : trainDir));
        int label = 0;
        Map<String, Integer> labels = new TreeMap<>();
        for (Map.Entry<String, String> e : synsets.entrySet()) {
            plan.classes.add(new Manifest.ClassInfo(label, e.getKey(), e.getValue()));
            labels.put(e.getKey(), label++);
        }
        plan.items.put(TRAIN, labelled(trainByClass, labels, root, trainDir, TRAIN, plan));

        // validation
        Path valDir = new Path(imageRoot, o.valDir);
        if (fs.exists(valDir) && fs.getFileStatus(valDir).isDirectory()) {
            plan.items.put(VAL, scanVal(fs, valDir, root, labelDirs, labels, o, plan));
        } else {
            plan.notes.add("no validation folder " + valDir + ": no val split");
        }
        plan.channelsHint = sampleChannels(fs, plan.items.get(TRAIN), o.seed);
        return plan;
    }

    private static List<Path> labelSearchDirs(Path root, Path imageRoot, Path valDir) {
        List<Path> dirs = new ArrayList<>();
        for (Path p : new Path[]{root, imageRoot, valDir.getParent(), valDir, new Path(root, "ILSVRC2012_devkit_t12/data"),
                new Path(root, "ILSVRC2012_devkit_t12"), root.getParent()}) {
            if (p != null && !dirs.contains(p)) dirs.add(p);
        }
        return dirs;
    }

    private static Path find(FileSystem fs, List<Path> dirs, String name) throws IOException {
        for (Path d : dirs) {
            Path p = new Path(d, name);
            if (fs.exists(p) && fs.getFileStatus(p).isFile()) return p;
        }
        return null;
    }

    /** class folder name -> its image files as items (label unset), sorted; records what it skips. */
    private static TreeMap<String, List<WorkItem>> scanClassFolders(FileSystem fs, Path dir, Path root, String split, PrepOptions o, SourcePlan plan) throws IOException {
        TreeMap<String, List<WorkItem>> byClass = new TreeMap<>();
        FileStatus[] entries = fs.listStatus(dir);
        Arrays.sort(entries, Comparator.comparing(s -> s.getPath().getName()));
        for (FileStatus st : entries) {
            String name = st.getPath().getName();
            if (!st.isDirectory()) {
                plan.ignored.add(new Manifest.QuarantineEntry(relative(root, st.getPath()), split, "stray file among class folders"));
                continue;
            }
            if (isHidden(name)) {
                plan.ignored.add(new Manifest.QuarantineEntry(relative(root, st.getPath()), split, "hidden folder"));
                continue;
            }
            byClass.put(name, imageFiles(fs, st.getPath(), root, split, name, o.limitPerClass, plan));
        }
        return byClass;
    }

    /** The image files directly in {@code dir}, sorted by name, limited; hidden and non-image files are recorded as ignored. */
    private static List<WorkItem> imageFiles(FileSystem fs, Path dir, Path root, String split, String wnid, int limit, SourcePlan plan) throws IOException {
        FileStatus[] files = fs.listStatus(dir);
        Arrays.sort(files, Comparator.comparing(s -> s.getPath().getName()));
        List<WorkItem> out = new ArrayList<>();
        for (FileStatus f : files) {
            String name = f.getPath().getName();
            String why = f.isDirectory() ? "subfolder inside a class folder" : isHidden(name) ? "hidden file" : !isImageName(name) ? "not an image file name" : null;
            if (why != null) {
                plan.ignored.add(new Manifest.QuarantineEntry(relative(root, f.getPath()), split, why));
                continue;
            }
            if (limit > 0 && out.size() >= limit) continue;
            out.add(new WorkItem(split, relative(root, f.getPath()), f.getPath().toUri().toString(), -1, wnid));
        }
        return out;
    }

    private static List<WorkItem> labelled(TreeMap<String, List<WorkItem>> byClass, Map<String, Integer> labels, Path root, Path dir, String split, SourcePlan plan) {
        List<WorkItem> out = new ArrayList<>();
        for (Map.Entry<String, List<WorkItem>> e : byClass.entrySet()) {
            Integer label = labels.get(e.getKey());
            if (label == null) {
                if (!e.getValue().isEmpty()) {
                    plan.ignored.add(new Manifest.QuarantineEntry(relative(root, new Path(dir, e.getKey())), split,
                            "folder '" + e.getKey() + "' is not a class of the synset mapping (" + e.getValue().size() + " files skipped)"));
                }
                continue;
            }
            for (WorkItem w : e.getValue()) out.add(withLabel(w, label));
        }
        return out;
    }

    private static WorkItem withLabel(WorkItem w, int label) {
        WorkItem n = new WorkItem(w.split, w.path, w.uri, label, w.wnid);
        n.offset = w.offset;
        n.length = w.length;
        n.rejectReason = w.rejectReason;
        return n;
    }

    private static List<WorkItem> scanVal(FileSystem fs, Path valDir, Path root, List<Path> labelDirs, Map<String, Integer> labels, PrepOptions o, SourcePlan plan) throws IOException {
        FileStatus[] entries = fs.listStatus(valDir);
        boolean flatImages = false, classFolders = false;
        for (FileStatus st : entries) {
            String n = st.getPath().getName();
            if (isHidden(n)) continue;
            if (st.isFile() && isImageName(n)) flatImages = true;
            if (st.isDirectory()) classFolders = true;
        }
        if (!flatImages && classFolders) {
            plan.notes.add("validation in class folders: " + valDir);
            TreeMap<String, List<WorkItem>> byClass = scanClassFolders(fs, valDir, root, VAL, o, plan);
            List<WorkItem> out = new ArrayList<>();
            for (Map.Entry<String, List<WorkItem>> e : byClass.entrySet()) {
                Integer label = labels.get(e.getKey());
                for (WorkItem w : e.getValue()) {
                    WorkItem n = withLabel(w, label == null ? -1 : label);
                    if (label == null) n.rejectReason = "val class folder '" + e.getKey() + "' is not in the class index";
                    out.add(n);
                }
            }
            return out;
        }
        Map<String, String> imageIdToWnid = valLabels(fs, labelDirs, o, plan);
        List<WorkItem> files = imageFiles(fs, valDir, root, VAL, UNLABELED, 0, plan);
        List<WorkItem> out = new ArrayList<>();
        Map<String, Integer> perClass = new TreeMap<>();
        for (WorkItem w : files) {
            String name = new Path(w.path).getName();
            String id = name.substring(0, name.lastIndexOf('.'));
            String wnid = imageIdToWnid.get(id);
            Integer label = wnid == null ? null : labels.get(wnid);
            WorkItem n = new WorkItem(VAL, w.path, w.uri, label == null ? -1 : label, wnid == null ? UNLABELED : wnid);
            if (wnid == null) n.rejectReason = "no label for '" + id + "' in the val labels file";
            else if (label == null) n.rejectReason = "label " + wnid + " is not in the class index";
            if (o.limitPerClass > 0 && perClass.merge(n.wnid, 1, Integer::sum) > o.limitPerClass) continue;
            out.add(n);
        }
        return out;
    }

    private static Map<String, String> valLabels(FileSystem fs, List<Path> dirs, PrepOptions o, SourcePlan plan) throws IOException {
        Path file = o.valLabels != null ? new Path(o.valLabels) : find(fs, dirs, LabelFiles.KAGGLE_VAL_SOLUTION);
        if (file == null) file = find(fs, dirs, LabelFiles.DEVKIT_GROUND_TRUTH);
        if (file == null) {
            throw new IllegalArgumentException("the val folder holds images but no labels file was found: give --val-labels "
                    + LabelFiles.KAGGLE_VAL_SOLUTION + " or " + LabelFiles.DEVKIT_GROUND_TRUTH + " (looked in " + dirs + "), "
                    + "or put the val images in class folders");
        }
        if (file.getName().endsWith(".csv")) {
            plan.notes.add("val labels from " + file + " (Kaggle ImageId,PredictionString)");
            return LabelFiles.kaggleValSolution(fs, file);
        }
        Path mapping = o.valIdMapping != null ? new Path(o.valIdMapping) : null;
        List<Path> mappingDirs = new ArrayList<>(dirs);
        mappingDirs.add(0, file.getParent());
        for (int i = 0; mapping == null && i < LabelFiles.DEVKIT_ID_MAPPINGS.length; i++) {
            mapping = find(fs, mappingDirs, LabelFiles.DEVKIT_ID_MAPPINGS[i]);
        }
        if (mapping == null) {
            throw new IllegalArgumentException(file + " holds ILSVRC2012_IDs, whose order is not the alphabetical wnid order: give "
                    + "--val-id-mapping FILE with '<ILSVRC2012_ID> <wnid>' lines (from the devkit's meta.mat), or put "
                    + String.join(" / ", LabelFiles.DEVKIT_ID_MAPPINGS) + " next to it");
        }
        plan.notes.add("val labels from " + file + " (devkit ILSVRC2012_IDs) mapped to wnids by " + mapping);
        return LabelFiles.devkitGroundTruth(fs, file, LabelFiles.devkitIdMapping(fs, mapping));
    }

    /** ILSVRC2012_img_train.tar: a tar of {@code <wnid>.tar}, each a tar of that class's images. */
    private static TreeMap<String, List<WorkItem>> scanTrainTar(FileSystem fs, Path tar, Path root, PrepOptions o, SourcePlan plan) throws IOException {
        plan.notes.add("training images read in place from " + tar);
        TreeMap<String, List<WorkItem>> byClass = new TreeMap<>();
        String tarUri = tar.toUri().toString();
        String tarRel = relative(root, tar);
        try (FSDataInputStream in = fs.open(tar)) {
            for (TarIndex.Entry classTar : TarIndex.list(in, 0, fs.getFileStatus(tar).getLen(), tar.toString())) {
                String base = new Path(classTar.name).getName();
                if (!base.endsWith(".tar") || isHidden(base)) {
                    plan.ignored.add(new Manifest.QuarantineEntry(tarRel + "/" + classTar.name, TRAIN, "not a per-class tar"));
                    continue;
                }
                String wnid = base.substring(0, base.length() - 4);
                List<TarIndex.Entry> members = TarIndex.list(in, classTar.dataOffset, classTar.size, tar + "/" + classTar.name);
                members.sort(Comparator.comparing(e -> e.name));
                List<WorkItem> items = new ArrayList<>();
                for (TarIndex.Entry m : members) {
                    String name = new Path(m.name).getName();
                    String rel = tarRel + "/" + classTar.name + "/" + m.name;
                    if (isHidden(name) || !isImageName(name)) {
                        plan.ignored.add(new Manifest.QuarantineEntry(rel, TRAIN, isHidden(name) ? "hidden file" : "not an image file name"));
                        continue;
                    }
                    if (o.limitPerClass > 0 && items.size() >= o.limitPerClass) continue;
                    WorkItem w = new WorkItem(TRAIN, rel, tarUri, -1, wnid);
                    w.offset = m.dataOffset;
                    w.length = m.size;
                    items.add(w);
                }
                byClass.put(wnid, items);
            }
        }
        return byClass;
    }

    /** 1 when a seeded sample of up to 32 training images are all grey by their headers, else 3. */
    private static int sampleChannels(FileSystem fs, List<WorkItem> train, long seed) throws IOException {
        if (train == null || train.isEmpty()) return 3;
        List<WorkItem> sample = new ArrayList<>(train);
        java.util.Collections.shuffle(sample, new Random(seed));
        byte[] head = new byte[64 * 1024];
        for (WorkItem w : sample.subList(0, Math.min(32, sample.size()))) {
            try (FSDataInputStream in = fs.open(new Path(URI.create(w.uri)))) {
                long start = Math.max(0, w.offset);
                long avail = w.offset >= 0 ? w.length : fs.getFileStatus(new Path(URI.create(w.uri))).getLen();
                int n = (int) Math.min(head.length, avail);
                in.readFully(start, head, 0, n);
                ImageInfo info = ImageInfo.probe(head, n);
                if (info == null || info.format == ImageInfo.Format.OTHER || !info.isGrey()) return 3;
            }
        }
        return 1;
    }
}
