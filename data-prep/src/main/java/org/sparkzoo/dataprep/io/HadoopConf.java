package org.sparkzoo.dataprep.io;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.UnsupportedFileSystemException;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.Optional;

/** A Hadoop Configuration that travels to executors (Configuration is Writable, not Serializable). */
public final class HadoopConf implements Serializable {
    private static final long serialVersionUID = 1L;
    private transient Configuration conf;

    public HadoopConf(Configuration conf) {
        this.conf = conf;
    }

    /**
     * The URI made absolute against the driver's file system and working directory (fs.defaultFS, e.g.
     * hdfs://namenode/user/&lt;user&gt;, or the driver's folder for file:): executors run in folders of their own,
     * where a relative path names nothing. It also reaches that file system once, so that a wrong or stopped
     * NameNode fails here with a line naming the URI, before any work is done.
     */
    public static String qualify(String uri, Configuration conf) {
        try {
            Path p = new Path(uri);
            FileSystem fs = p.getFileSystem(conf);
            Path qualified = fs.makeQualified(p);
            fs.exists(qualified);
            return qualified.toString();
        } catch (UnsupportedFileSystemException e) {
            throw new IllegalArgumentException(uri + ": " + e.getMessage() + " (file:, hdfs: and viewfs: are built in; "
                    + "others need their Hadoop connector, e.g. hadoop-aws for s3a:, on the classpath)", e);
        } catch (IOException e) {
            throw unreachable(uri, e).orElseGet(() -> new UncheckedIOException("cannot resolve " + uri + ": " + e.getMessage(), e));
        } catch (IllegalArgumentException e) { // what Hadoop throws for an unknown host
            throw unreachable(uri, e).orElse(e);
        }
    }

    /** A one-line error naming the URI and the fix, when a connection failure (refused, unknown host, timeout) is behind {@code e}. */
    private static Optional<RuntimeException> unreachable(String uri, Exception e) {
        Throwable network = null; // the innermost: Hadoop's wrappers repeat it with a wiki link
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof SocketException || c instanceof UnknownHostException || c instanceof SocketTimeoutException) {
                network = c;
            }
        }
        return Optional.ofNullable(network).map(c -> (RuntimeException) new IllegalArgumentException("cannot reach the file system of " + uri
                + " (" + c + "): check the host and port in the URI, or fs.defaultFS for a path without them "
                + "(--conf spark.hadoop.fs.defaultFS=hdfs://<namenode>:<port>), and that the NameNode is up", e));
    }

    public Configuration get() {
        return conf;
    }

    private void writeObject(ObjectOutputStream out) throws IOException {
        out.defaultWriteObject();
        conf.write(out);
    }

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        conf = new Configuration(false);
        conf.readFields(in);
    }
}
