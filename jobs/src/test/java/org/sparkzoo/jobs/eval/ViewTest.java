package org.sparkzoo.jobs.eval;

import org.junit.jupiter.api.Test;
import org.sparkzoo.dataprep.image.Image;
import org.sparkzoo.jobs.EvalJob;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ViewTest {

    /** A 6x6 grey image whose pixel (y, x) is 10 * y + x, so each crop can be recognized by its first pixel. */
    private static Image grid() {
        byte[] d = new byte[36];
        for (int y = 0; y < 6; y++) {
            for (int x = 0; x < 6; x++) {
                d[y * 6 + x] = (byte) (10 * y + x);
            }
        }
        return new Image(d, 6, 6, 1);
    }

    @Test
    void tenCropIsTheFourCornersAndTheCenterEachAlsoMirrored() {
        List<View> views = View.parse("ten-crop", 1.5); // 4px model input: resize 4 -> 6 is a no-op on the 6x6 grid
        assertEquals(10, views.size());
        Set<String> crops = new HashSet<>();
        for (View v : views) {
            Image out = v.transform(4).apply(grid(), null);
            assertEquals(4, out.height);
            assertEquals(4, out.width);
            crops.add(java.util.Arrays.toString(out.data));
        }
        assertEquals(10, crops.size(), "ten distinct views");
        // top-right corner: rows 0-3, columns 2-5; mirrored: the row read right to left
        Image tr = new View(1.5, View.Crop.TOP_RIGHT, false).transform(4).apply(grid(), null);
        assertArrayEquals(new byte[]{2, 3, 4, 5}, java.util.Arrays.copyOfRange(tr.data, 0, 4));
        Image trFlip = new View(1.5, View.Crop.TOP_RIGHT, true).transform(4).apply(grid(), null);
        assertArrayEquals(new byte[]{5, 4, 3, 2}, java.util.Arrays.copyOfRange(trFlip.data, 0, 4));
        Image bl = new View(1.5, View.Crop.BOTTOM_LEFT, false).transform(4).apply(grid(), null);
        assertArrayEquals(new byte[]{20, 21, 22, 23}, java.util.Arrays.copyOfRange(bl.data, 0, 4));
        Image c = new View(1.5, View.Crop.CENTER, false).transform(4).apply(grid(), null);
        assertArrayEquals(new byte[]{11, 12, 13, 14}, java.util.Arrays.copyOfRange(c.data, 0, 4));
    }

    @Test
    void centerAndMultiScale() {
        assertEquals(1, View.parse("center", 256.0 / 224).size());
        List<View> ms = View.parse("multi-scale", 256.0 / 224);
        assertEquals(3, ms.size());
        for (View v : ms) {
            Image out = v.transform(28).apply(new Image(new byte[40 * 30], 40, 30, 1), null);
            assertEquals(28, out.height);
            assertEquals(28, out.width);
        }
        assertEquals("center@1.30", ms.get(2).toString());
    }

    @Test
    void badViewsAreRefusedWithTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> View.parse("five-crop", 1.0));
        assertTrue(e.getMessage().contains("center, ten-crop, multi-scale"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> View.parse("center", 0.9));
    }

    @Test
    void evalJobTakesTheViewsAndDocumentsThem() {
        String usage = EvalJob.cli().usage();
        assertTrue(usage.contains("ten-crop") && usage.contains("multi-scale") && usage.contains("mirrored"), usage);
        EvalOptions o = EvalJob.cli().parse(new String[]{"--checkpoints", "a.zip,b.zip", "--data", "d", "--output", "o", "--views", "ten-crop"},
                new EvalOptions(), new PrintStream(new ByteArrayOutputStream()));
        assertEquals("ten-crop", o.views);
        assertEquals(List.of("a.zip", "b.zip"), o.checkpoints);
    }
}
