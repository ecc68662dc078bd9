package org.sparkzoo.dataprep;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparkzoo.dataprep.idx.IdxFile;
import org.sparkzoo.dataprep.idx.IdxToImageNet;
import org.sparkzoo.dataprep.image.Image;
import org.sparkzoo.dataprep.image.ImageCodec;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Fashion-MNIST -> ImageNet layout -> prep-job -> shards -> ShardReader: labels, pixels, counts, manifest. */
class FashionEndToEndTest {
    @TempDir
    Path tmp;

    @Test
    void convertedFashionMnistRoundTripsThroughShards() throws Exception {
        Path tree = tmp.resolve("fashion-imagenet");
        IdxToImageNet.Result conv = IdxToImageNet.convert(List.of(Fixtures.fashionMnist()), tree, null, 600, 200, 95);
        assertEquals(600, conv.train);
        assertEquals("T-shirt/top", conv.names.get(0));
        assertEquals("Ankle boot", conv.names.get(9));

        PrepOptions o = new PrepOptions();
        o.input = tree.toString();
        o.output = tmp.resolve("out").toString();
        o.shardSize = 128;
        o.progressSeconds = 0;
        PrepResult r = PrepPipeline.run(TestSpark.get(), o);

        Configuration conf = new Configuration();
        Manifest m = Manifest.read(o.output, conf);
        assertEquals(10, m.numClasses());
        for (int c = 0; c < 10; c++) {
            assertEquals(c, m.classes().get(c).index);
            assertEquals(IdxFile.pseudoWnid(c), m.classes().get(c).wnid);
            assertEquals(IdxFile.FASHION_MNIST_NAMES[c], m.classes().get(c).name);
        }
        assertEquals(1, m.channels, "all-grey input is stored as 1 channel");
        Manifest.Split train = m.split("train");
        assertEquals(600, train.count);
        assertEquals(List.of(128L, 128L, 128L, 128L, 88L), train.shards.stream().map(s -> s.rows).toList());
        assertEquals(200, m.split("val").count);
        assertTrue(m.quarantine.isEmpty(), m.quarantine.toString());
        assertTrue(r.manifestUri.startsWith("file:") && r.manifestUri.endsWith("/out/manifest.json"), r.manifestUri);
        assertEquals(m.id(), r.manifest.id());

        IdxFile trainImages, trainLabels;
        try (InputStream in = Files.newInputStream(Fixtures.fashionMnist().resolve("train-images-idx3-ubyte.gz"))) {
            trainImages = IdxFile.read(in, "train-images");
        }
        try (InputStream in = Files.newInputStream(Fixtures.fashionMnist().resolve("train-labels-idx1-ubyte.gz"))) {
            trainLabels = IdxFile.read(in, "train-labels");
        }
        Set<String> seen = new HashSet<>();
        List<Integer> firstShardLabels = new ArrayList<>();
        for (Manifest.ShardInfo s : train.shards) {
            List<ImageRecord> rows = ShardReader.read(o.output + "/" + s.file, conf, 0, 10_000);
            assertEquals(s.rows, rows.size());
            for (ImageRecord rec : rows) {
                assertTrue(seen.add(rec.path), "duplicate " + rec.path);
                int idx = Integer.parseInt(rec.path.substring(rec.path.lastIndexOf('_') + 1, rec.path.lastIndexOf('.')));
                assertEquals(trainLabels.label(idx), rec.label, rec.path);
                assertEquals(IdxFile.pseudoWnid(rec.label), rec.wnid);
                assertEquals("jpeg", rec.encoding);
                Image img = ImageCodec.decode(rec.image, 1, 0);
                assertEquals(28, img.width);
                double diff = 0;
                byte[] orig = trainImages.image(idx);
                for (int i = 0; i < orig.length; i++) diff += Math.abs((orig[i] & 0xff) - (img.data[i] & 0xff));
                assertTrue(diff / orig.length < 4, "pixels drifted: mean abs diff " + diff / orig.length);
                if (s == train.shards.get(0)) firstShardLabels.add(rec.label);
            }
        }
        assertEquals(600, seen.size());
        assertTrue(new HashSet<>(firstShardLabels).size() >= 8, "first shard is not shuffled across classes: " + firstShardLabels);

        // a slice in the middle of a shard
        List<ImageRecord> slice = ShardReader.read(o.output + "/" + train.shards.get(1).file, conf, 100, 10);
        List<ImageRecord> whole = ShardReader.readAll(o.output + "/" + train.shards.get(1).file, conf);
        assertEquals(10, slice.size());
        assertEquals(whole.get(100).path, slice.get(0).path);
        assertEquals(whole.get(109).path, slice.get(9).path);
    }
}
