package org.sparkzoo.jobs.report;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Writing whole small files (reports, metrics) to any Hadoop path, via a temporary name and a rename. */
public final class Files {
    private Files() {
    }

    public static void write(Path target, byte[] bytes, Configuration conf) throws IOException {
        FileSystem fs = target.getFileSystem(conf);
        Path tmp = new Path(target.getParent(), "." + target.getName() + ".tmp-" + System.nanoTime());
        try (FSDataOutputStream out = fs.create(tmp, true)) {
            out.write(bytes);
        }
        if (fs.exists(target)) {
            fs.delete(target, false);
        }
        if (!fs.rename(tmp, target)) {
            throw new IOException("cannot rename " + tmp + " to " + target);
        }
    }

    public static void write(Path target, String text, Configuration conf) throws IOException {
        write(target, text.getBytes(StandardCharsets.UTF_8), conf);
    }
}
