package org.sparkzoo.dataprep.io;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Paths made absolute on the driver, and the one-line errors for a file system that cannot be used. */
class HadoopConfTest {
    @Test
    void aRelativePathIsQualifiedAgainstTheDefaultFileSystemAndWorkingFolder() {
        String cwd = Path.of("").toAbsolutePath().toUri().getPath();
        assertEquals("file:" + cwd + "shards", HadoopConf.qualify("shards", new Configuration()));
    }

    @Test
    void aNameNodeNobodyListensOnIsOneLineNamingTheUriAndTheFix() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String uri = "hdfs://127.0.0.1:" + port + "/data/shards";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HadoopConf.qualify(uri, new Configuration()));
        assertTrue(e.getMessage().startsWith("cannot reach the file system of " + uri + " (java.net.ConnectException: Connection refused)"), e.getMessage());
        assertTrue(e.getMessage().contains("--conf spark.hadoop.fs.defaultFS="), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void aRelativePathUnderAnUnreachableDefaultFileSystemNamesThePathGiven() {
        Configuration conf = new Configuration();
        conf.set("fs.defaultFS", "hdfs://no-such-namenode.invalid:8020");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HadoopConf.qualify("run", conf));
        assertTrue(e.getMessage().startsWith("cannot reach the file system of run (java.net.UnknownHostException"), e.getMessage());
    }

    @Test
    void aSchemeWithoutAFileSystemSaysWhatIsMissing() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HadoopConf.qualify("s4x://bucket/data", new Configuration()));
        assertTrue(e.getMessage().startsWith("s4x://bucket/data: No FileSystem for scheme \"s4x\""), e.getMessage());
        assertTrue(e.getMessage().contains("on the classpath"), e.getMessage());
    }
}
