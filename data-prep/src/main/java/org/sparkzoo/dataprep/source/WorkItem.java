package org.sparkzoo.dataprep.source;

import java.io.Serializable;

/** One source image to prepare: where its bytes are, its split and class, or why it is already rejected. */
public final class WorkItem implements Serializable {
    private static final long serialVersionUID = 1L;

    public final String split;
    /** Path relative to the input root, as recorded in shards and reports. */
    public final String path;
    /** Hadoop URI (encoded) of the file to read; for a tar member, of the tar file. */
    public final String uri;
    public final int label;
    public final String wnid;
    /** For a tar member: where its bytes are in {@link #uri}; -1 for a plain file. */
    public long offset = -1;
    public long length = -1;
    /** IDX input: grey pixels (height x width) carried along instead of a file. */
    public byte[] pixels;
    public int pixelsHeight;
    public int pixelsWidth;
    /** Set when the file is rejected before decoding (e.g. no label); it goes to quarantine. */
    public String rejectReason;

    public WorkItem(String split, String path, String uri, int label, String wnid) {
        this.split = split;
        this.path = path;
        this.uri = uri;
        this.label = label;
        this.wnid = wnid;
    }
}
