package org.sparkzoo.jobs.cli;

/** A mistake in what the user gave (an option, an input, a folder): printed as one line, without a stack trace. */
public class UserError extends RuntimeException {
    public UserError(String message) {
        super(message);
    }

    public UserError(String message, Throwable cause) {
        super(message, cause);
    }
}
