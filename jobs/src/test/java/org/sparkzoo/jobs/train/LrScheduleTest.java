package org.sparkzoo.jobs.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LrScheduleTest {

    private static TrainOptions options(String kind) {
        TrainOptions o = new TrainOptions();
        o.lrSchedule = kind;
        o.lr = 0.1;
        o.lrReferenceBatch = 256;
        o.epochs = 90;
        return o;
    }

    @Test
    void linearScalingRuleScalesTheBaseRateWithTheGlobalBatch() {
        assertEquals(0.1, new LrSchedule(options("constant"), 256).baseLr(), 1e-12);
        assertEquals(0.4, new LrSchedule(options("constant"), 1024).baseLr(), 1e-12);
        assertEquals(0.025, new LrSchedule(options("constant"), 64).at(50), 1e-12);
    }

    @Test
    void stepDecaysByGammaEveryStepEpochs() {
        LrSchedule s = new LrSchedule(options("step"), 256);
        assertEquals(0.1, s.at(0), 1e-12);
        assertEquals(0.1, s.at(29.9), 1e-12);
        assertEquals(0.01, s.at(30), 1e-12);
        assertEquals(0.001, s.at(60.5), 1e-12);
    }

    @Test
    void cosineGoesFromBaseToZero() {
        LrSchedule s = new LrSchedule(options("cosine"), 256);
        assertEquals(0.1, s.at(0), 1e-12);
        assertEquals(0.05, s.at(45), 1e-12);
        assertEquals(0.0, s.at(90), 1e-12);
    }

    @Test
    void polyAndWarmup() {
        TrainOptions o = options("poly");
        o.lrPower = 2;
        o.warmupEpochs = 10;
        LrSchedule s = new LrSchedule(o, 256);
        assertEquals(0.001, s.at(0), 1e-12);      // warmup starts at 1%
        assertEquals(0.1 * (0.01 + 0.99 * 0.5), s.at(5), 1e-12);
        assertEquals(0.1, s.at(10), 1e-12);       // then poly from the base rate
        assertEquals(0.1 * 0.25, s.at(50), 1e-12); // halfway through the decay: (1 - 0.5)^2
    }

    @Test
    void unknownScheduleIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(options("exp"), 256));
    }
}
