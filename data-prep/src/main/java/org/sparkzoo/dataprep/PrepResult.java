package org.sparkzoo.dataprep;

import java.util.LinkedHashMap;
import java.util.Map;

/** What a prep run produced. */
public final class PrepResult {
    /** URI of the manifest.json written. */
    public final String manifestUri;
    public final Manifest manifest;
    /** Rows written per split (augmented copies included). */
    public final Map<String, Long> rowsPerSplit = new LinkedHashMap<>();
    /** Source files found and quarantined, all splits. */
    public long found;
    public long quarantined;
    public long ignored;
    public double seconds;
    /** The per-class reconciliation table (found = written + quarantined), as printed. */
    public String reconciliation;

    PrepResult(String manifestUri, Manifest manifest) {
        this.manifestUri = manifestUri;
        this.manifest = manifest;
    }

    @Override
    public String toString() {
        return "prep: wrote " + rowsPerSplit + " rows, " + quarantined + " of " + found + " files quarantined, "
                + ignored + " ignored, in " + String.format("%.1f", seconds) + " s; manifest " + manifestUri;
    }
}
