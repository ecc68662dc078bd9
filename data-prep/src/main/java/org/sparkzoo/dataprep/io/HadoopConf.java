package org.sparkzoo.dataprep.io;

import org.apache.hadoop.conf.Configuration;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;

/** A Hadoop Configuration that travels to executors (Configuration is Writable, not Serializable). */
public final class HadoopConf implements Serializable {
    private static final long serialVersionUID = 1L;
    private transient Configuration conf;

    public HadoopConf(Configuration conf) {
        this.conf = conf;
    }

    /**
     * The URI made absolute against the driver's file system and working directory: executors run in folders of
     * their own, where a relative path names nothing.
     */
    public static String qualify(String uri, Configuration conf) {
        try {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(uri);
            return p.getFileSystem(conf).makeQualified(p).toString();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot resolve " + uri + ": " + e.getMessage(), e);
        }
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
