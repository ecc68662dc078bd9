package org.sparkzoo.jobs.eval;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReferencesTest {

    private static List<String> imageNetClasses() {
        List<String> c = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            c.add("class " + i);
        }
        return c;
    }

    @Test
    void kerasRowForImageNetLikeData() {
        List<References.Row> rows = References.forModels(List.of("resnet50", "densenet121", "resnet50"), imageNetClasses());
        assertEquals(2, rows.size(), "one row per distinct model");
        assertEquals("ResNet50", rows.get(0).reference);
        assertEquals(0.749, rows.get(0).top1, 1e-9);
        assertEquals(0.921, rows.get(0).top5, 1e-9);
        assertEquals(0.750, rows.get(1).top1, 1e-9);
        assertTrue(rows.get(0).url.startsWith("https://keras.io/"));
        assertTrue(References.forModels(List.of("lenet5"), imageNetClasses()).isEmpty(), "no Keras row for lenet5");
    }

    @Test
    void fashionMnistRowsAndHumanPerformance() {
        List<References.Row> rows = References.forModels(List.of("lenet5"), References.FASHION_MNIST_CLASSES);
        assertEquals(2, rows.size());
        assertEquals("0.876-0.932", rows.get(0).top1Text());
        assertEquals("-", rows.get(0).top5Text(), "the benchmark publishes no top-5");
        assertEquals(0.835, rows.get(1).top1, 1e-9);
        assertTrue(rows.get(1).reference.startsWith("Human"));
        assertEquals(0.954, References.forModels(List.of("densenet121"), References.FASHION_MNIST_CLASSES).get(0).top1, 1e-9);
    }

    @Test
    void otherDataGetsNoReference() {
        assertNull(References.dataset(List.of("cat", "dog")));
        assertTrue(References.forModels(List.of("resnet50"), List.of("cat", "dog")).isEmpty());
    }
}
