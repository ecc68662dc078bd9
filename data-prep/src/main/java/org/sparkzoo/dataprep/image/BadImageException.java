package org.sparkzoo.dataprep.image;

/** The bytes are not an image this pipeline can use; the message says why in words a person can act on. */
public class BadImageException extends Exception {
    private static final long serialVersionUID = 1L;

    public BadImageException(String reason) {
        super(reason);
    }
}
