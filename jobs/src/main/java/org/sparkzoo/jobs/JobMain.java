package org.sparkzoo.jobs;

import org.sparkzoo.jobs.cli.Cli;
import org.sparkzoo.jobs.cli.UserError;

import java.io.FileNotFoundException;

/**
 * What every job's {@code main} shares: turn a usage error into one line and exit code 2, a user error (missing
 * path, unknown model, bad data) into one line and exit code 1, and keep stack traces for real bugs.
 */
public final class JobMain {
    private JobMain() {
    }

    public interface Body {
        void run() throws Exception;
    }

    public static void run(String job, Body body) {
        int code = 0;
        try {
            body.run();
        } catch (Cli.CliExit e) {
            if (e.getMessage() != null) {
                System.err.println(e.getMessage());
            }
            code = e.code;
        } catch (UserError | IllegalArgumentException | FileNotFoundException e) {
            System.err.println(job + ": error: " + e.getMessage());
            code = 1;
        } catch (OutOfMemoryError e) {
            System.err.println(job + ": error: " + OUT_OF_HEAP);
            code = 1;
        } catch (Exception e) {
            Throwable cause = rootUserError(e);
            if (cause != null) {
                System.err.println(job + ": error: " + cause.getMessage());
            } else if (outOfHeap(e)) {
                System.err.println(job + ": error: " + OUT_OF_HEAP);
            } else {
                System.err.println(job + ": failed: " + e);
                e.printStackTrace();
            }
            code = 1;
        }
        if (code != 0) {
            System.exit(code);
        }
    }

    static final String OUT_OF_HEAP = "a JVM ran out of Java heap (parameters and their copies for broadcast and "
            + "averaging are serialized on the heap): raise --driver-memory (local mode) or spark.executor.memory; "
            + "the checkpoints already written are kept, continue with --resume";

    /**
     * Spark reports an executor's (or local mode's) OutOfMemoryError as a task failure message; when the driver
     * runs out of heap fetching a large task result (a worker's parameters), the task fails as TaskResultLost.
     */
    static boolean outOfHeap(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            String m = String.valueOf(c.getMessage());
            if (c instanceof OutOfMemoryError || m.contains("java.lang.OutOfMemoryError: Java heap space")
                    || m.contains("TaskResultLost (result lost from block manager)")) {
                return true;
            }
        }
        return false;
    }

    private static Throwable rootUserError(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof UserError || c instanceof FileNotFoundException) {
                return c;
            }
        }
        return null;
    }
}
