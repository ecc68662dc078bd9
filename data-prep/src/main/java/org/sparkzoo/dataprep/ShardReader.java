package org.sparkzoo.dataprep;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.MessageColumnIO;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.schema.MessageType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads rows of one Parquet shard without Spark (parquet-hadoop's example Group API), so it runs inside
 * executors, in a DL4J data loader, or in a plain test. Row groups before the wanted range are skipped
 * without being decompressed.
 */
public final class ShardReader {
    private ShardReader() {
    }

    /** Rows in the shard, from its footer. */
    public static long rows(String shardUri, Configuration conf) {
        try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(new Path(shardUri), conf))) {
            return reader.getRecordCount();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read shard " + shardUri + ": " + e.getMessage(), e);
        }
    }

    /** All rows of the shard. */
    public static List<ImageRecord> readAll(String shardUri, Configuration conf) {
        return read(shardUri, conf, 0, Integer.MAX_VALUE);
    }

    /**
     * Rows [offset, offset + count) of the shard, fewer when the shard ends first.
     *
     * @throws IllegalArgumentException if offset is negative or past the end
     */
    public static List<ImageRecord> read(String shardUri, Configuration conf, long offset, int count) {
        if (offset < 0 || count < 0) throw new IllegalArgumentException("offset and count must be >= 0");
        return read(shardUri, conf, offset, count, null);
    }

    /**
     * The given rows of the shard (ascending, distinct), in that order. Reads the row groups that hold them, as a
     * range read does.
     *
     * @throws IllegalArgumentException if a row is past the end
     */
    public static List<ImageRecord> readRows(String shardUri, Configuration conf, long[] rows) {
        for (int i = 1; i < rows.length; i++) {
            if (rows[i] <= rows[i - 1]) throw new IllegalArgumentException("rows must be ascending and distinct");
        }
        if (rows.length == 0) return new ArrayList<>();
        if (rows[0] < 0) throw new IllegalArgumentException("rows must be >= 0");
        return read(shardUri, conf, rows[0], (int) Math.min(Integer.MAX_VALUE, rows[rows.length - 1] - rows[0] + 1), rows);
    }

    /** Rows [offset, offset + count) of the shard, or only those of {@code only} (ascending) when it is given. */
    private static List<ImageRecord> read(String shardUri, Configuration conf, long offset, int count, long[] only) {
        Path path = new Path(shardUri);
        try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(path, conf))) {
            long total = reader.getRecordCount();
            long last = only == null ? offset : only[only.length - 1];
            if (offset > total || (offset == total && count > 0 && total > 0) || (only != null && last >= total)) {
                throw new IllegalArgumentException("shard " + shardUri + " has " + total + " rows; row "
                        + (only == null ? offset : last) + " is past its end");
            }
            MessageType schema = reader.getFooter().getFileMetaData().getSchema();
            MessageColumnIO columnIO = new ColumnIOFactory().getColumnIO(schema);
            long end = Math.min(total, offset + count);
            List<ImageRecord> out = new ArrayList<>(only != null ? only.length : (int) Math.max(0, end - offset));
            int next = 0; // the next wanted row of 'only'
            long groupStart = 0;
            for (BlockMetaData block : reader.getRowGroups()) {
                long groupEnd = groupStart + block.getRowCount();
                if (groupStart >= end) break;
                if (groupEnd <= offset || (only != null && only[next] >= groupEnd)) {
                    reader.skipNextRowGroup();
                } else {
                    PageReadStore pages = reader.readNextRowGroup();
                    RecordReader<Group> records = columnIO.getRecordReader(pages, new GroupRecordConverter(schema));
                    for (long r = groupStart; r < groupEnd && r < end; r++) {
                        Group g = records.read();
                        if (only == null ? r >= offset : next < only.length && only[next] == r) {
                            out.add(toRecord(g));
                            next++;
                        }
                    }
                }
                groupStart = groupEnd;
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read shard " + shardUri + ": " + e.getMessage(), e);
        }
    }

    private static ImageRecord toRecord(Group g) {
        return new ImageRecord(
                g.getBinary("image", 0).getBytes(),
                g.getInteger("label", 0),
                string(g, "wnid"),
                string(g, "path"),
                g.getInteger("width", 0),
                g.getInteger("height", 0),
                string(g, "encoding"),
                g.getType().containsField("channels") && g.getFieldRepetitionCount("channels") > 0 ? g.getInteger("channels", 0) : 3);
    }

    private static String string(Group g, String field) {
        return g.getFieldRepetitionCount(field) > 0 ? g.getString(field, 0) : null;
    }
}
