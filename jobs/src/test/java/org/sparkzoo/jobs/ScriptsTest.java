package org.sparkzoo.jobs;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scripts' own decisions, run by bash: the quickstart's set-up (install what is missing, or say the one
 * command to run) and the loopback binding of local runs. apt-get, sudo and id are stand-ins on PATH that record
 * how they were called, so nothing is installed.
 */
class ScriptsTest {
    static final Path ROOT = Files.isDirectory(Paths.get("scripts")) ? Paths.get("").toAbsolutePath()
            : Paths.get("").toAbsolutePath().getParent();

    /** Exit code and output (stdout + stderr) of a bash snippet, with {@code bin} first on PATH. */
    private static String[] bash(Path bin, String script) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "set -euo pipefail; " + script).directory(ROOT.toFile()).redirectErrorStream(true);
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new String[]{String.valueOf(p.exitValue()), out};
    }

    private static void stub(Path bin, String name, String body) throws IOException {
        Path f = bin.resolve(name);
        Files.writeString(f, "#!/usr/bin/env bash\n" + body + "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static Path bin(String uid, boolean sudo) throws IOException {
        Path bin = Files.createTempDirectory("sparkzoo-stubs");
        Path log = bin.resolve("calls.log");
        stub(bin, "id", "[ \"$1\" = -u ] && echo " + uid);
        stub(bin, "apt-get", "echo \"apt-get $*\" >> " + log);
        if (sudo) {
            stub(bin, "sudo", "[ \"$1\" = -n ] && shift; echo \"sudo $*\" >> " + log + "; [ \"$1\" = true ] || \"$@\"");
        } else {
            stub(bin, "sudo", "echo 'sudo: a password is required' >&2; exit 1");
        }
        return bin;
    }

    private static String calls(Path bin) throws IOException {
        Path log = bin.resolve("calls.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Test
    void asRootTheMissingPackagesAreInstalledWithAptGet() throws Exception {
        Path bin = bin("0", false);
        String[] r = bash(bin, "source scripts/lib/setup.sh; sparkzoo_install_packages dataset-fashion-mnist; echo after");
        assertEquals("0", r[0], r[1]);
        assertTrue(calls(bin).contains("apt-get install -y --no-install-recommends dataset-fashion-mnist"), calls(bin));
        assertFalse(calls(bin).contains("sudo"), calls(bin));
        assertTrue(r[1].contains("after"));
    }

    @Test
    void withPasswordlessSudoTheyAreInstalledThroughIt() throws Exception {
        Path bin = bin("1000", true);
        String[] r = bash(bin, "source scripts/lib/setup.sh; sparkzoo_install_packages dataset-fashion-mnist maven");
        assertEquals("0", r[0], r[1]);
        assertTrue(calls(bin).contains("sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dataset-fashion-mnist maven")
                && calls(bin).contains("\napt-get install"), calls(bin));
    }

    @Test
    void otherwiseTheOneCommandToRunIsPrintedAndTheScriptStops() throws Exception {
        Path bin = bin("1000", false);
        String[] r = bash(bin, "source scripts/lib/setup.sh; sparkzoo_install_packages dataset-fashion-mnist; echo after");
        assertEquals("1", r[0], r[1]);
        assertEquals(1, r[1].strip().split("\n").length, "one line: " + r[1]);
        assertTrue(r[1].contains("run 'sudo apt-get install -y --no-install-recommends dataset-fashion-mnist'"), r[1]);
        assertFalse(r[1].contains("after"));
        assertFalse(calls(bin).contains("apt-get"), calls(bin));
        // nothing missing: nothing to do
        assertEquals("0", bash(bin, "source scripts/lib/setup.sh; sparkzoo_install_packages")[0]);
    }

    @Test
    void theQuickstartNamesAWrongFashionMnistDirBeforeAnyWork() throws Exception {
        Path bin = bin("0", false);
        Path work = Files.createTempDirectory("sparkzoo-qs");
        String[] r = bash(bin, "FASHION_MNIST_DIR=" + work.resolve("nope") + " scripts/quickstart " + work);
        assertEquals("1", r[0], r[1]);
        assertTrue(r[1].contains("FASHION_MNIST_DIR=") && r[1].contains("unset it"), r[1]);
        assertFalse(calls(bin).contains("apt-get"), "a custom folder is not the package's: " + calls(bin));
    }

    @Test
    void localRunsBindTheLoopbackAddressUnlessTheUserChoseOne() throws Exception {
        Path bin = bin("0", false);
        String fn = "source scripts/lib/submit-job.sh; ";
        List<String> local = List.of("", "--master 'local[2]'", "--conf spark.master=local[4]", "--driver-memory 4g",
                "--master local-cluster[2,1,1024]");
        for (String args : local) {
            assertEquals("0", bash(bin, fn + "sparkzoo_local_unbound " + args)[0], "binds 127.0.0.1: " + args);
        }
        List<String> chosen = List.of("--master spark://h:7077", "--master yarn", "--conf spark.driver.host=10.0.0.5",
                "--master 'local[2]' --conf spark.driver.bindAddress=0.0.0.0");
        for (String args : chosen) {
            assertEquals("1", bash(bin, fn + "sparkzoo_local_unbound " + args)[0], "left alone: " + args);
        }
    }
}
