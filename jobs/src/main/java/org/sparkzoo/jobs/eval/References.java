package org.sparkzoo.jobs.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Published accuracies that a report shows beside ours, clearly as figures from elsewhere (other training
 * recipes, other code): the Keras Applications table for ImageNet-like data (1000 classes), and the benchmark
 * table of Fashion-MNIST's README when the data's classes are Fashion-MNIST's. The one place these numbers live.
 */
public final class References {
    public static final String KERAS_SOURCE = "Keras Applications, \"Available models\" (ImageNet validation, single center crop)";
    public static final String KERAS_URL = "https://keras.io/api/applications/";
    public static final String FASHION_SOURCE = "Fashion-MNIST README, \"Benchmark\" (submitted results, not verified by its authors)";
    public static final String FASHION_URL = "https://github.com/zalandoresearch/fashion-mnist#benchmark";
    /** Fashion-MNIST's class names in label order, as IdxToImageNet names them. */
    public static final List<String> FASHION_MNIST_CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    /** One published figure: top-1 (or a range over several submissions), top-5 when published. */
    public static final class Row {
        public final String model;
        public final String reference;
        public final double top1;
        /** Upper end when the row summarizes several submissions, else equal to top1. */
        public final double top1High;
        public final double top5;
        public final String source;
        public final String url;

        Row(String model, String reference, double top1, double top1High, double top5, String source, String url) {
            this.model = model;
            this.reference = reference;
            this.top1 = top1;
            this.top1High = top1High;
            this.top5 = top5;
            this.source = source;
            this.url = url;
        }

        public String top1Text() {
            return top1High > top1 ? String.format(Locale.ROOT, "%.3f-%.3f", top1, top1High) : String.format(Locale.ROOT, "%.3f", top1);
        }

        public String top5Text() {
            return Double.isNaN(top5) ? "-" : String.format(Locale.ROOT, "%.3f", top5);
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("our_model", model);
            m.put("reference", reference);
            m.put("top1", top1);
            if (top1High > top1) {
                m.put("top1_high", top1High);
            }
            m.put("top5", Double.isNaN(top5) ? null : top5);
            m.put("source", source);
            m.put("url", url);
            return m;
        }
    }

    /**
     * Keras Applications' table (checked against keras.io/api/applications): our model name -> name, top-1, top-5,
     * parameters (millions), and the input size Keras evaluated at (299 for Xception and the Inceptions, else 224).
     */
    private static final Object[][] KERAS = {
            {"xception", "Xception", 0.790, 0.945, 22.9, 299},
            {"vgg16", "VGG16", 0.713, 0.901, 138.4, 224},
            {"vgg19", "VGG19", 0.713, 0.900, 143.7, 224},
            {"resnet50", "ResNet50", 0.749, 0.921, 25.6, 224},
            {"resnet101", "ResNet101", 0.764, 0.928, 44.7, 224},
            {"resnet152", "ResNet152", 0.766, 0.931, 60.4, 224},
            {"inception_v3", "InceptionV3", 0.779, 0.937, 23.9, 299},
            {"inception_resnet_v2", "InceptionResNetV2", 0.803, 0.953, 55.9, 299},
            {"mobilenet_v1", "MobileNet", 0.704, 0.895, 4.3, 224},
            {"mobilenet_v2", "MobileNetV2", 0.713, 0.901, 3.5, 224},
            {"densenet121", "DenseNet121", 0.750, 0.923, 8.1, 224},
            {"densenet169", "DenseNet169", 0.762, 0.932, 14.3, 224},
            {"densenet201", "DenseNet201", 0.773, 0.936, 20.2, 224},
            {"nasnet_mobile", "NASNetMobile", 0.744, 0.919, 5.3, 224},
    };

    /** A Keras Applications row for the accuracy-versus-cost chart: Keras publishes no operation counts. */
    public record KerasRow(String model, String name, double top1, double params, int inputSize) {
    }

    /** Every Keras Applications row, in the table's order. */
    public static List<KerasRow> keras() {
        List<KerasRow> rows = new ArrayList<>();
        for (Object[] k : KERAS) {
            rows.add(new KerasRow((String) k[0], (String) k[1], (Double) k[2], (Double) k[4] * 1e6, (Integer) k[5]));
        }
        return rows;
    }

    /**
     * Fashion-MNIST README's benchmark rows (test accuracy, no top-5), by the prefix of our model name. The
     * two-convolution row summarizes its seven submissions (0.876 Keras, no preprocessing, to 0.932 with 3 FC layers).
     */
    private static final Object[][] FASHION = {
            {"lenet", "2-conv-layer nets (7 submissions)", 0.876, 0.932},
            {"alexnet", "AlexNet with triplet loss", 0.899, 0.899},
            {"squeezenet", "SqueezeNet, cyclical LR, 200 epochs", 0.900, 0.900},
            {"vgg", "VGG16, 26M parameters", 0.935, 0.935},
            {"googlenet", "GoogLeNet with cross-entropy loss", 0.937, 0.937},
            {"inception", "GoogLeNet with cross-entropy loss", 0.937, 0.937},
            {"resnet", "ResNet18 (flips, translation, rotation)", 0.949, 0.949},
            {"mobilenet", "MobileNet (horizontal flips)", 0.950, 0.950},
            {"densenet", "DenseNet-BC, 768K parameters (crops, flips)", 0.954, 0.954},
            {"wrn", "WRN-28-10 (crops, flips)", 0.959, 0.959},
    };
    private static final double HUMAN = 0.835;

    private References() {
    }

    /** Which reference table applies to data with these classes: "imagenet", "fashion-mnist" or null. */
    public static String dataset(List<String> classNames) {
        if (classNames.size() == 1000) {
            return "imagenet";
        }
        if (classNames.equals(FASHION_MNIST_CLASSES)) {
            return "fashion-mnist";
        }
        return null;
    }

    /** The published rows for these models (registry names, each once) on data with these classes; may be empty. */
    public static List<Row> forModels(List<String> models, List<String> classNames) {
        String dataset = dataset(classNames);
        List<Row> rows = new ArrayList<>();
        if (dataset == null) {
            return rows;
        }
        for (String model : models.stream().distinct().toList()) {
            if ("imagenet".equals(dataset)) {
                for (Object[] k : KERAS) {
                    if (k[0].equals(model)) {
                        rows.add(new Row(model, (String) k[1], (Double) k[2], (Double) k[2], (Double) k[3], KERAS_SOURCE, KERAS_URL));
                    }
                }
            } else {
                for (Object[] f : FASHION) {
                    if (model.startsWith((String) f[0])) {
                        rows.add(new Row(model, (String) f[1], (Double) f[2], (Double) f[3], Double.NaN, FASHION_SOURCE, FASHION_URL));
                        break;
                    }
                }
            }
        }
        if ("fashion-mnist".equals(dataset)) {
            rows.add(new Row(null, "Human performance (crowd-sourced, 1000 test images)", HUMAN, HUMAN, Double.NaN, FASHION_SOURCE, FASHION_URL));
        }
        return rows;
    }
}
