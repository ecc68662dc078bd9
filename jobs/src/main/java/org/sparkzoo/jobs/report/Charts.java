package org.sparkzoo.jobs.report;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Small PNG charts drawn with Java2D (headless), for training curves and evaluation reports. */
public final class Charts {
    private static final Color[] PALETTE = {
            new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728),
            new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f)};
    private static final int W = 900;
    private static final int H = 420;
    private static final int L = 80;
    private static final int R = 30;
    private static final int T = 40;
    private static final int B = 60;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Charts() {
    }

    /** A series of (x, y) points. */
    public static final class Series {
        final String name;
        final double[] x;
        final double[] y;

        public Series(String name, double[] x, double[] y) {
            this.name = name;
            this.x = x;
            this.y = y;
        }
    }

    /** Line chart of several series sharing one y axis; returns PNG bytes. */
    public static byte[] lines(String title, String xLabel, String yLabel, List<Series> series) throws IOException {
        double minX = Double.MAX_VALUE, maxX = -Double.MAX_VALUE, minY = Double.MAX_VALUE, maxY = -Double.MAX_VALUE;
        for (Series s : series) {
            for (int i = 0; i < s.x.length; i++) {
                if (!Double.isFinite(s.y[i])) {
                    continue;
                }
                minX = Math.min(minX, s.x[i]);
                maxX = Math.max(maxX, s.x[i]);
                minY = Math.min(minY, s.y[i]);
                maxY = Math.max(maxY, s.y[i]);
            }
        }
        if (minX > maxX) {
            minX = 0; maxX = 1; minY = 0; maxY = 1;
        }
        if (maxX == minX) {
            maxX = minX + 1;
        }
        if (maxY == minY) {
            maxY = minY + 1;
        }
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = frame(img, title, xLabel, yLabel, minX, maxX, minY, maxY);
        int k = 0;
        for (Series s : series) {
            g.setColor(PALETTE[k % PALETTE.length]);
            g.setStroke(new BasicStroke(2f));
            int px = -1, py = -1;
            for (int i = 0; i < s.x.length; i++) {
                if (!Double.isFinite(s.y[i])) {
                    continue;
                }
                int x = sx(s.x[i], minX, maxX);
                int y = sy(s.y[i], minY, maxY);
                if (px >= 0) {
                    g.drawLine(px, py, x, y);
                }
                if (s.x.length < 60) {
                    g.fillOval(x - 3, y - 3, 6, 6);
                }
                px = x;
                py = y;
            }
            g.drawString(s.name, W - R - 200, T + 18 + 16 * k);
            k++;
        }
        g.dispose();
        return png(img);
    }

    /** One bar: its name under the axis, its value, its color, and the text above it (null: the value). */
    public static final class Bar {
        final String name;
        final double value;
        final Color color;
        final String label;

        public Bar(String name, double value, Color color, String label) {
            this.name = name;
            this.value = value;
            this.color = color;
            this.label = label;
        }
    }

    /** The colors reports use: ours, our ensemble, and figures published elsewhere. */
    public static final Color MEMBER = PALETTE[0];
    public static final Color ENSEMBLE = PALETTE[2];
    public static final Color REFERENCE = new Color(0xb0b0b0);

    /** Bar chart of values in [0, max], one color; returns PNG bytes. */
    public static byte[] bars(String title, String yLabel, Map<String, Double> values, double max) throws IOException {
        List<Bar> bars = new java.util.ArrayList<>();
        values.forEach((k, v) -> bars.add(new Bar(k, v, MEMBER, null)));
        return bars(title, yLabel, bars, 0, max);
    }

    /** Bar chart on a y axis from min to max (a floor above 0 makes close accuracies readable); returns PNG bytes. */
    public static byte[] bars(String title, String yLabel, List<Bar> bars, double min, double max) throws IOException {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = frame(img, title, "", yLabel, 0, 1, min, max);
        int n = Math.max(1, bars.size());
        double slot = (double) (W - L - R) / n;
        int nameChars = n <= 10 ? 24 : 12;
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, n > 20 ? 9 : 11));
        for (int i = 0; i < bars.size(); i++) {
            Bar b = bars.get(i);
            int x0 = (int) (L + i * slot + slot * 0.15);
            int w = (int) Math.max(1, slot * 0.7);
            double v = Double.isFinite(b.value) ? Math.max(min, Math.min(max, b.value)) : min;
            int y = sy(v, min, max);
            g.setColor(b.color);
            g.fillRect(x0, y, w, H - B - y);
            g.setColor(Color.DARK_GRAY);
            String label = b.name.length() > nameChars ? b.name.substring(0, nameChars) : b.name;
            Graphics2D r = (Graphics2D) g.create();
            r.rotate(Math.toRadians(n <= 10 ? 15 : 35), x0, H - B + 12);
            r.drawString(label, x0, H - B + 12);
            r.dispose();
            if (n <= 20) {
                g.drawString(b.label != null ? b.label : String.format(Locale.ROOT, "%.3f", b.value), x0, y - 3);
            }
        }
        g.dispose();
        return png(img);
    }

    /** One bubble: a model at (x, y) with an area proportional to {@code size}. */
    public static final class Bubble {
        final String name;
        final double x;
        final double y;
        final double size;
        final Color color;

        public Bubble(String name, double x, double y, double size, Color color) {
            this.name = name;
            this.x = x;
            this.y = y;
            this.size = size;
            this.color = color;
        }
    }

    /**
     * Bubble chart on a log10 x axis (e.g. top-1 against multiply-adds, area ~ parameters, as in the surveys'
     * "upper left is better" figure); bubbles without a finite positive x or a finite y are left out.
     */
    public static byte[] bubbles(String title, String xLabel, String yLabel, List<Bubble> bubbles) throws IOException {
        List<Bubble> shown = bubbles.stream().filter(b -> b.x > 0 && Double.isFinite(b.x) && Double.isFinite(b.y)).toList();
        double minX = Double.MAX_VALUE, maxX = -Double.MAX_VALUE, minY = 1, maxY = 0, maxSize = 0;
        for (Bubble b : shown) {
            minX = Math.min(minX, Math.log10(b.x));
            maxX = Math.max(maxX, Math.log10(b.x));
            minY = Math.min(minY, b.y);
            maxY = Math.max(maxY, b.y);
            maxSize = Math.max(maxSize, b.size);
        }
        if (shown.isEmpty()) {
            minX = 6; maxX = 10; minY = 0; maxY = 1;
        }
        minX = Math.floor(minX - 0.3);
        maxX = Math.ceil(maxX + 0.3);
        minY = Math.max(0, Math.floor((minY - 0.05) * 20) / 20);
        maxY = Math.min(1, Math.ceil((maxY + 0.05) * 20) / 20);
        if (maxY <= minY) {
            maxY = minY + 0.1;
        }
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = frame(img, title, "", yLabel, minX, maxX, minY, maxY);
        g.setColor(Color.DARK_GRAY);
        for (int e = (int) minX; e <= (int) maxX; e++) {
            int x = sx(e, minX, maxX);
            g.drawLine(x, H - B, x, H - B + 4);
            String tick = e >= 9 ? (long) Math.pow(10, e - 9) + "G" : e >= 6 ? (long) Math.pow(10, e - 6) + "M" : e >= 3 ? (long) Math.pow(10, e - 3) + "k" : String.valueOf((long) Math.pow(10, e));
            g.drawString(tick, x - 8, H - B + 18);
        }
        g.drawString(xLabel, W / 2 - 60, H - 15);
        for (Bubble b : shown) {
            double radius = 4 + 36 * Math.sqrt(maxSize > 0 ? b.size / maxSize : 0); // area ~ size
            int x = sx(Math.log10(b.x), minX, maxX), y = sy(b.y, minY, maxY);
            g.setColor(new Color(b.color.getRed(), b.color.getGreen(), b.color.getBlue(), 110));
            g.fillOval((int) (x - radius), (int) (y - radius), (int) (2 * radius), (int) (2 * radius));
            g.setColor(b.color.darker());
            g.drawOval((int) (x - radius), (int) (y - radius), (int) (2 * radius), (int) (2 * radius));
            g.setColor(Color.BLACK);
            g.drawString(b.name, x + 4, y - 4);
        }
        g.dispose();
        return png(img);
    }

    /** Heatmap of a square matrix (row-normalized), e.g. a confusion matrix; returns PNG bytes. */
    public static byte[] heatmap(String title, List<String> labels, long[][] m) throws IOException {
        int n = m.length;
        int cell = Math.max(4, Math.min(40, 560 / Math.max(1, n)));
        int left = 130, top = 50;
        BufferedImage img = new BufferedImage(left + cell * n + 40, top + cell * n + 120, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title + " (rows: true class, columns: predicted; row-normalized)", 10, 22);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, Math.min(11, cell)));
        for (int i = 0; i < n; i++) {
            long total = 0;
            for (long v : m[i]) {
                total += v;
            }
            for (int j = 0; j < n; j++) {
                double f = total == 0 ? 0 : (double) m[i][j] / total;
                int shade = (int) Math.round(255 * (1 - f));
                g.setColor(new Color(shade, shade, 255));
                g.fillRect(left + j * cell, top + i * cell, cell, cell);
                if (cell >= 28 && m[i][j] > 0) {
                    g.setColor(f > 0.5 ? Color.WHITE : Color.BLACK);
                    g.drawString(String.format(Locale.ROOT, "%.2f", f), left + j * cell + 2, top + i * cell + cell / 2 + 4);
                }
            }
            if (i < labels.size() && cell >= 8) {
                g.setColor(Color.BLACK);
                String label = labels.get(i).length() > 18 ? labels.get(i).substring(0, 18) : labels.get(i);
                g.drawString(label, 5, top + i * cell + cell / 2 + 4);
                Graphics2D r = (Graphics2D) g.create();
                r.rotate(Math.toRadians(60), left + i * cell + cell / 2.0, top + n * cell + 8);
                r.drawString(label, left + i * cell + cell / 2, top + n * cell + 8);
                r.dispose();
            }
        }
        g.dispose();
        return png(img);
    }

    private static Graphics2D frame(BufferedImage img, String title, String xLabel, String yLabel,
                                    double minX, double maxX, double minY, double maxY) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, H);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, L, 24);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.setColor(new Color(0xdddddd));
        for (int i = 0; i <= 5; i++) {
            double v = minY + (maxY - minY) * i / 5;
            int y = sy(v, minY, maxY);
            g.drawLine(L, y, W - R, y);
            g.setColor(Color.DARK_GRAY);
            String tick = String.format(Locale.ROOT, "%.3g", v);
            g.drawString(tick, L - 6 - g.getFontMetrics().stringWidth(tick), y + 4); // right-aligned, clear of the axis title
            g.setColor(new Color(0xdddddd));
        }
        g.setColor(Color.DARK_GRAY);
        if (!xLabel.isEmpty()) {
            for (int i = 0; i <= 5; i++) {
                double v = minX + (maxX - minX) * i / 5;
                g.drawString(String.format(Locale.ROOT, "%.3g", v), sx(v, minX, maxX) - 10, H - B + 18);
            }
            g.drawString(xLabel, W / 2 - 20, H - 15);
        }
        g.drawLine(L, H - B, W - R, H - B);
        g.drawLine(L, T, L, H - B);
        Graphics2D r = (Graphics2D) g.create();
        r.rotate(-Math.PI / 2, 16, H / 2.0);
        r.drawString(yLabel, 16 - r.getFontMetrics().stringWidth(yLabel) / 2, H / 2);
        r.dispose();
        return g;
    }

    private static int sx(double x, double min, double max) {
        return (int) Math.round(L + (x - min) / (max - min) * (W - L - R));
    }

    private static int sy(double y, double min, double max) {
        return (int) Math.round(H - B - (y - min) / (max - min) * (H - T - B));
    }

    private static byte[] png(BufferedImage img) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    /** Preserves insertion order for bar charts. */
    public static Map<String, Double> ordered() {
        return new LinkedHashMap<>();
    }
}
