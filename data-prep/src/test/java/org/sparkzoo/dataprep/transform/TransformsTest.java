package org.sparkzoo.dataprep.transform;

import org.junit.jupiter.api.Test;
import org.sparkzoo.dataprep.Fixtures;
import org.sparkzoo.dataprep.image.Image;
import org.sparkzoo.dataprep.image.ImageCodec;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class TransformsTest {
    static Image chelsea() throws Exception {
        return ImageCodec.decode(Fixtures.photo("chelsea.jpg"), 3, 0);   // 451 x 300
    }

    static Image solid(int w, int h, int r, int g, int b) {
        byte[] d = new byte[w * h * 3];
        for (int i = 0; i < d.length; i += 3) {
            d[i] = (byte) r;
            d[i + 1] = (byte) g;
            d[i + 2] = (byte) b;
        }
        return new Image(d, h, w, 3);
    }

    @Test
    void resizeMatchesTorchvisionSizes() throws Exception {
        Image img = new Resize(256).apply(chelsea(), null);
        assertEquals(256, img.height);
        assertEquals(384, img.width);            // int(256 * 451 / 300)
        Image tall = new Resize(100).apply(new Image(new byte[60 * 40 * 3], 60, 40, 3), null);
        assertEquals(100, tall.width);
        assertEquals(150, tall.height);
    }

    @Test
    void centerCropTakesTheMiddleAndPadsSmallImages() throws Exception {
        Image c = chelsea();
        Image crop = new CenterCrop(224).apply(c, null);
        assertEquals(224, crop.width);
        assertEquals(224, crop.height);
        int top = (int) Math.round((300 - 224) / 2.0), left = (int) Math.round((451 - 224) / 2.0);
        for (int x = 0; x < 224 * 3; x++) assertEquals(c.data[(top * 451) * 3 + left * 3 + x], crop.data[x]);

        Image small = solid(60, 40, 200, 100, 50);
        Image padded = new CenterCrop(224).apply(small, null);
        assertEquals(224, padded.width);
        assertEquals(0, padded.data[0]);                                   // black padding in the corner
        int mid = (112 * 224 + 112) * 3;
        assertEquals((byte) 200, padded.data[mid]);                        // the picture in the middle
    }

    @Test
    void randomCropPadsWithBlackAndCoversEveryOffset() {
        // a 4x4 single-channel image with pixel value 10*y + x + 1 (never 0), cropped back to 4x4 with padding 2
        byte[] d = new byte[16];
        for (int y = 0; y < 4; y++) for (int x = 0; x < 4; x++) d[y * 4 + x] = (byte) (10 * y + x + 1);
        Image img = new Image(d, 4, 4, 1);
        RandomCrop crop = new RandomCrop(4, 2);
        java.util.Set<String> offsets = new java.util.HashSet<>();
        Random rng = new Random(7);
        for (int i = 0; i < 400; i++) {
            Image out = crop.apply(img, rng);
            assertEquals(4, out.height);
            assertEquals(4, out.width);
            // recover the offset from the first non-black pixel and check every pixel against it
            int dy = Integer.MIN_VALUE, dx = 0;
            for (int p = 0; p < 16 && dy == Integer.MIN_VALUE; p++) {
                int v = out.data[p];
                if (v != 0) { dy = (v - 1) / 10 - p / 4; dx = (v - 1) % 10 - p % 4; }
            }
            for (int y = 0; y < 4; y++) for (int x = 0; x < 4; x++) {
                int sy = y + dy, sx = x + dx;
                int want = sy >= 0 && sy < 4 && sx >= 0 && sx < 4 ? 10 * sy + sx + 1 : 0;
                assertEquals(want, out.data[y * 4 + x], "pixel " + y + "," + x + " at offset " + dy + "," + dx);
            }
            offsets.add(dy + "," + dx);
        }
        assertEquals(25, offsets.size(), "offsets -2..2 in both directions are all drawn");
        Image again = crop.apply(img, new Random(7));
        assertArrayEquals(crop.apply(img, new Random(7)).data, again.data, "seeded");
        assertThrows(IllegalArgumentException.class, () -> new RandomCrop(10, 2).apply(img, new Random(1)));
    }

    @Test
    void randomResizedCropIsSeededAndStaysInBounds() throws Exception {
        RandomResizedCrop rrc = new RandomResizedCrop(224);
        Image c = chelsea();
        Image a = rrc.apply(c, new Random(1)), b = rrc.apply(c, new Random(1)), other = rrc.apply(c, new Random(2));
        assertEquals(224, a.width);
        assertEquals(224, a.height);
        assertArrayEquals(a.data, b.data);
        assertFalse(Arrays.equals(a.data, other.data));
        Random rng = new Random(3);
        for (int i = 0; i < 2000; i++) {
            int[] w = rrc.window(451, 300, rng);
            assertTrue(w[0] >= 0 && w[1] >= 0 && w[0] + w[2] <= 451 && w[1] + w[3] <= 300, Arrays.toString(w));
            double area = (double) w[2] * w[3] / (451 * 300);
            assertTrue(area >= 0.079 && area <= 1.0, "area " + area);
            double ratio = (double) w[2] / w[3];
            assertTrue(ratio >= 0.74 && ratio <= 1.35, "ratio " + ratio);
        }
        // fallback on a very wide strip: a centred crop with the ratio clamped to 4/3
        int[] fb = new RandomResizedCrop(32, 0.99, 1.0, 1.0, 1.0).window(400, 20, new Random(0));
        assertArrayEquals(new int[]{190, 0, 20, 20}, fb);
    }

    @Test
    void flipMirrorsAtProbabilityOneAndNeverAtZero() throws Exception {
        Image c = chelsea();
        Image f = new RandomHorizontalFlip(1.0).apply(c, new Random(0));
        for (int x = 0; x < 3; x++) assertEquals(c.data[(451 - 1) * 3 + x], f.data[x]);
        assertSame(c, new RandomHorizontalFlip(0.0).apply(c, new Random(0)));
        int flipped = 0;
        Random rng = new Random(5);
        RandomHorizontalFlip half = new RandomHorizontalFlip();
        Image tiny = solid(2, 1, 0, 0, 0);
        tiny.data[0] = 1;
        for (int i = 0; i < 1000; i++) if (half.apply(tiny, rng).data[0] == 0) flipped++;
        assertTrue(flipped > 420 && flipped < 580, "flipped " + flipped);
    }

    @Test
    void colorJitterFollowsTorchvisionBlends() {
        Image img = solid(8, 8, 100, 150, 200);
        assertArrayEquals(img.data, new ColorJitter(0, 0, 0).apply(img, new Random(0)).data);
        // saturation 0 amount range [0, 2]: a full desaturation is the grey image; check the blend toward grey
        Image sat = new ColorJitter(0, 0, 1).apply(img, new Random(9));
        int r = sat.data[0] & 0xff, b = sat.data[2] & 0xff;
        assertNotEquals(100, r);
        assertTrue((r < 100) == (b > 200) || r == b, "saturation blends toward/away from grey together: " + r + "," + b);
        Image bright = new ColorJitter(0.5, 0, 0).apply(img, new Random(4));
        double ratio = (bright.data[0] & 0xff) / 100.0, ratio2 = (bright.data[1] & 0xff) / 150.0;
        assertEquals(ratio, ratio2, 0.02, "brightness scales all channels by one factor");
        assertArrayEquals(new ColorJitter(0.4, 0.4, 0.4).apply(img, new Random(7)).data, new ColorJitter(0.4, 0.4, 0.4).apply(img, new Random(7)).data);
    }

    @Test
    void lightingAddsThePcaOffsets() {
        Image img = solid(4, 4, 100, 100, 100);
        Lighting l = new Lighting(0.1);
        double[] off = l.offsets(new Random(11));
        Image out = l.apply(img, new Random(11));
        for (int c = 0; c < 3; c++) assertEquals(100 + Math.round(off[c]), out.data[c] & 0xff);
        // offset = eigvec * (alpha * eigval), alpha ~ N(0, 0.1): first component dominates, same sign on all channels
        Random rng = new Random(11);
        double a0 = rng.nextGaussian() * 0.1;
        assertEquals(255 * (-0.5675 * a0 * 0.2175 + 0.7192 * rng.nextGaussian() * 0.1 * 0.0188 + 0.4009 * rng.nextGaussian() * 0.1 * 0.0045), off[0], 1e-9);
    }

    @Test
    void presetsGiveTheirSizes() throws Exception {
        Image c = chelsea();
        Image t = Presets.train(224).apply(c, new Random(0));
        assertEquals(224, t.width);
        assertEquals(224, t.height);
        Image e = Presets.eval(224, 256).apply(c, new Random(0));
        assertEquals(224, e.width);
        assertEquals(224, e.height);
        assertEquals(64, Presets.augment(64).apply(c, new Random(0)).width);
    }

    @Test
    void toTensorNormalisesIntoChw() {
        Image img = solid(2, 1, 255, 0, 128);
        float[] out = new float[1 + 6];
        Presets.toTensor(img, Presets.IMAGENET_MEAN, Presets.IMAGENET_STD, out, 1);
        assertEquals((1f - 0.485f) / 0.229f, out[1], 1e-5);   // R plane
        assertEquals((1f - 0.485f) / 0.229f, out[2], 1e-5);
        assertEquals((0f - 0.456f) / 0.224f, out[3], 1e-5);   // G plane
        assertEquals((128 / 255f - 0.406f) / 0.225f, out[6], 1e-5);
        assertEquals(0f, out[0]);

        Image grey = new Image(new byte[]{(byte) 255, 0}, 1, 2, 1);
        float[] rgb = new float[6];
        Presets.toTensor(grey, Presets.IMAGENET_MEAN, Presets.IMAGENET_STD, rgb, 0);
        assertEquals((1f - 0.456f) / 0.224f, rgb[2], 1e-5);    // grey replicated into G
        float[] one = new float[2];
        Presets.toTensor(grey, Presets.GREY_MEAN, Presets.GREY_STD, one, 0);
        assertEquals((1f - Presets.GREY_MEAN[0]) / Presets.GREY_STD[0], one[0], 1e-5);
    }
}
