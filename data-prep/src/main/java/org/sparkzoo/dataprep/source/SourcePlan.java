package org.sparkzoo.dataprep.source;

import org.sparkzoo.dataprep.Manifest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** What the driver found: the class index, the work per split, what was skipped, and how labels were read. */
public final class SourcePlan {
    public String layout;
    public final List<Manifest.ClassInfo> classes = new ArrayList<>();
    /** split -> items, in sorted path order. */
    public final Map<String, List<WorkItem>> items = new LinkedHashMap<>();
    public final List<Manifest.QuarantineEntry> ignored = new ArrayList<>();
    /** Human notes on what was detected (label files used, layout), printed and kept in the manifest options. */
    public final List<String> notes = new ArrayList<>();
    /** Channels suggested by the source (1 for IDX / all-grey samples), 0 = no opinion. */
    public int channelsHint;

    /** split -> wnid -> source files found (rejected-before-decoding included). */
    public Map<String, Map<String, Long>> foundPerClass() {
        Map<String, Map<String, Long>> found = new LinkedHashMap<>();
        for (Map.Entry<String, List<WorkItem>> e : items.entrySet()) {
            Map<String, Long> m = new TreeMap<>();
            for (WorkItem w : e.getValue()) m.merge(w.wnid, 1L, Long::sum);
            found.put(e.getKey(), m);
        }
        return found;
    }

    public long totalItems() {
        long n = 0;
        for (List<WorkItem> l : items.values()) n += l.size();
        return n;
    }
}
