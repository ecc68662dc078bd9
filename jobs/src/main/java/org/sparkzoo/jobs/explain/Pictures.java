package org.sparkzoo.jobs.explain;

import org.nd4j.linalg.api.ndarray.INDArray;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/** The explanation pictures: images from network inputs, heat-map overlays, reconstructions, filter grids, captioned rows. */
public final class Pictures {
    /** Heat map opacity over the image. */
    static final float ALPHA = 0.5f;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Pictures() {
    }

    /** A network input [1, C, H, W] normalized with (mean, std) back to pixels, scaled up by {@code scale} (nearest). */
    public static BufferedImage input(INDArray x, float[] mean, float[] std, int scale) {
        int c = (int) x.size(1), h = (int) x.size(2), w = (int) x.size(3);
        float[][][] px = new float[c][h][w];
        for (int k = 0; k < c; k++) {
            for (int i = 0; i < h; i++) {
                for (int j = 0; j < w; j++) {
                    px[k][i][j] = Math.max(0, Math.min(1, x.getFloat(0, k, i, j) * std[k] + mean[k]));
                }
            }
        }
        return image(px, scale);
    }

    /** A reconstruction [1, C, H, W] shown as ZFNet does: its values stretched to the full grey or color range. */
    public static BufferedImage reconstruction(INDArray r, int scale) {
        float lo = r.minNumber().floatValue(), hi = r.maxNumber().floatValue();
        float range = hi > lo ? hi - lo : 1;
        int c = (int) r.size(1), h = (int) r.size(2), w = (int) r.size(3);
        float[][][] px = new float[c][h][w];
        for (int k = 0; k < c; k++) {
            for (int i = 0; i < h; i++) {
                for (int j = 0; j < w; j++) {
                    px[k][i][j] = (r.getFloat(0, k, i, j) - lo) / range;
                }
            }
        }
        return image(px, scale);
    }

    private static BufferedImage image(float[][][] px, int scale) {
        int h = px[0].length, w = px[0][0].length;
        BufferedImage img = new BufferedImage(w * scale, h * scale, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h * scale; y++) {
            for (int x = 0; x < w * scale; x++) {
                int i = y / scale, j = x / scale;
                int r = (int) (255 * px[0][i][j]);
                int g = px.length == 3 ? (int) (255 * px[1][i][j]) : r;
                int b = px.length == 3 ? (int) (255 * px[2][i][j]) : r;
                img.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return img;
    }

    /**
     * The map upsampled bilinearly to the image (align-corners off, as torch's interpolate), its positive part
     * scaled to [0, 1] by its maximum, in a jet-like color map blended with opacity {@link #ALPHA} over the image.
     */
    public static BufferedImage overlay(BufferedImage image, float[][] map) {
        int w = image.getWidth(), h = image.getHeight(), mh = map.length, mw = map[0].length;
        float max = 0;
        for (float[] row : map) {
            for (float v : row) {
                max = Math.max(max, v);
            }
        }
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            float fy = Math.max(0, (y + 0.5f) * mh / h - 0.5f);
            int y0 = Math.min((int) fy, mh - 1), y1 = Math.min(y0 + 1, mh - 1);
            float dy = fy - y0;
            for (int x = 0; x < w; x++) {
                float fx = Math.max(0, (x + 0.5f) * mw / w - 0.5f);
                int x0 = Math.min((int) fx, mw - 1), x1 = Math.min(x0 + 1, mw - 1);
                float dx = fx - x0;
                float v = (1 - dy) * ((1 - dx) * map[y0][x0] + dx * map[y0][x1]) + dy * ((1 - dx) * map[y1][x0] + dx * map[y1][x1]);
                float t = max > 0 ? Math.max(0, v) / max : 0;
                int rgb = image.getRGB(x, y);
                int[] jet = jet(t);
                int r = (int) ((1 - ALPHA) * ((rgb >> 16) & 0xff) + ALPHA * jet[0]);
                int g = (int) ((1 - ALPHA) * ((rgb >> 8) & 0xff) + ALPHA * jet[1]);
                int b = (int) ((1 - ALPHA) * (rgb & 0xff) + ALPHA * jet[2]);
                out.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return out;
    }

    /** MATLAB's jet: dark blue (0) through cyan, yellow to dark red (1). */
    static int[] jet(float t) {
        float r = Math.max(0, Math.min(1, Math.min(4 * t - 1.5f, -4 * t + 4.5f)));
        float g = Math.max(0, Math.min(1, Math.min(4 * t - 0.5f, -4 * t + 3.5f)));
        float b = Math.max(0, Math.min(1, Math.min(4 * t + 0.5f, -4 * t + 2.5f)));
        return new int[]{(int) (255 * r), (int) (255 * g), (int) (255 * b)};
    }

    /** The first layer's filters W [oC, iC, kH, kW] as a grid, each filter stretched to the full range on its own. */
    public static BufferedImage filters(INDArray w, int scale) {
        int n = (int) w.size(0), c = (int) w.size(1), kh = (int) w.size(2), kw = (int) w.size(3);
        int cols = (int) Math.ceil(Math.sqrt(n)), rows = (n + cols - 1) / cols, gap = 2;
        BufferedImage img = new BufferedImage(cols * (kw * scale + gap) + gap, rows * (kh * scale + gap) + gap, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.dispose();
        float[] all = w.dup('c').data().asFloat(); // plain arrays: indexing a view of the flattened parameters gave empty arrays
        int per = c * kh * kw;
        for (int f = 0; f < n; f++) {
            float lo = Float.MAX_VALUE, hi = -Float.MAX_VALUE;
            for (int i = f * per; i < (f + 1) * per; i++) {
                lo = Math.min(lo, all[i]);
                hi = Math.max(hi, all[i]);
            }
            float range = hi > lo ? hi - lo : 1;
            boolean color = c == 3;
            float[][][] px = new float[color ? 3 : 1][kh][kw];
            for (int y = 0; y < kh; y++) {
                for (int x = 0; x < kw; x++) {
                    for (int k = 0; k < (color ? 3 : 1); k++) {
                        float v = 0;
                        for (int ch = color ? k : 0; ch < (color ? k + 1 : c); ch++) {
                            v += all[f * per + (ch * kh + y) * kw + x];
                        }
                        px[k][y][x] = color || c == 1 ? (v - lo) / range : (v / c - lo) / range; // grey: the mean over input channels
                    }
                }
            }
            BufferedImage tile = image(px, scale);
            int ox = gap + (f % cols) * (kw * scale + gap), oy = gap + (f / cols) * (kh * scale + gap);
            img.getGraphics().drawImage(tile, ox, oy, null);
        }
        return img;
    }

    /** Pictures side by side, a caption under each and a title line above; returns PNG bytes. */
    public static byte[] row(String title, List<BufferedImage> tiles, List<String> captions) {
        int gap = 6, captionH = 30, titleH = title == null || title.isEmpty() ? 0 : 20;
        int w = gap, h = 0;
        for (BufferedImage t : tiles) {
            w += Math.max(t.getWidth(), 90) + gap;
            h = Math.max(h, t.getHeight());
        }
        BufferedImage img = new BufferedImage(Math.max(w, 200), titleH + h + captionH + gap, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
        if (titleH > 0) {
            g.drawString(title, gap, 14);
        }
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        int x = gap;
        for (int i = 0; i < tiles.size(); i++) {
            BufferedImage t = tiles.get(i);
            g.drawImage(t, x, titleH, null);
            String[] lines = captions.get(i).split("\n");
            for (int l = 0; l < lines.length && l < 2; l++) {
                g.drawString(lines[l], x, titleH + h + 12 + 12 * l);
            }
            x += Math.max(t.getWidth(), 90) + gap;
        }
        g.dispose();
        return png(img);
    }

    public static byte[] png(BufferedImage img) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(img, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
