package org.sparkzoo.models.vertices;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Dropout salts never meet a drop-path salt (a vertex index or FractalNet's global salt) and differ per name. */
class DropoutSaltTest {
    @Test
    void saltsLieAboveEveryDropPathSalt() {
        Set<Long> salts = new HashSet<>();
        List<String> names = List.of("dropout", "dropout_2", "dropout_3", "classifier/dropout", "aux1/dropout",
                "aux2/dropout", "fc/dropout", "block1/dropout", "");
        for (String name : names) {
            long salt = DropoutVertex.salt(name);
            assertTrue(salt >= 1L << 62, name + ": salt " + salt + " in the range of vertex indices");
            salts.add(salt);
        }
        assertEquals(names.size(), salts.size(), "two names share a salt");
        assertEquals(DropoutVertex.salt("dropout"), DropoutVertex.salt("dropout"));
    }
}
