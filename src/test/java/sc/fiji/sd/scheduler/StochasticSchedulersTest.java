package sc.fiji.sd.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.LongFunction;

import org.junit.jupiter.api.Test;

/**
 * Samplers that draw noise (Euler a, DDIM with eta &gt; 0, LCM, DPM++ 2M SDE): the same seed gives the same result,
 * different seeds give different results, and eta = 0 is exactly deterministic DDIM.
 */
class StochasticSchedulersTest {

	private static float[] run(Scheduler s, int steps, boolean sigmaLoop) {
		return sigmaLoop ? DiffusersFixtures.sigmaLoop(s, steps) : DiffusersFixtures.plainLoop(s, steps);
	}

	private static void assertSeeded(LongFunction<Scheduler> bySeed, int steps, boolean sigmaLoop) {
		float[] a = run(bySeed.apply(1), steps, sigmaLoop);
		float[] b = run(bySeed.apply(1), steps, sigmaLoop);
		float[] c = run(bySeed.apply(2), steps, sigmaLoop);
		assertArrayEquals(a, b, "same seed, same result");
		assertFalse(Arrays.equals(a, c), "different seeds, different results");
		for (float v : a)
			assertTrue(Float.isFinite(v));
	}

	@Test
	void eulerAncestral() {
		assertSeeded(seed -> new EulerAncestralDiscreteScheduler(TimestepScheduleTest.sd15(), new SplittableRandom(
			seed)), 10, true);
	}

	@Test
	void ddimWithEta() {
		assertSeeded(seed -> new DDIMScheduler(TimestepScheduleTest.sd15(), 0.5, new SplittableRandom(seed)), 10,
			false);
	}

	@Test
	void lcm() {
		assertSeeded(seed -> new LCMScheduler(SchedulerConfig.defaults(SchedulerConfig.LCM), new SplittableRandom(
			seed)), 4, false);
	}

	@Test
	void dpmSde() {
		assertSeeded(seed -> new DPMSolverMultistepScheduler(TimestepScheduleTest.sd15().with("algorithm_type",
			"sde-dpmsolver++"), new SplittableRandom(seed)), 10, false);
	}

	@Test
	void ddimEtaZeroIgnoresTheGenerator() {
		float[] plain = run(new DDIMScheduler(TimestepScheduleTest.sd15()), 10, false);
		float[] withRng = run(new DDIMScheduler(TimestepScheduleTest.sd15(), 0, new SplittableRandom(5)), 10, false);
		assertArrayEquals(plain, withRng);
	}

	@Test
	void ddimEtaAddsTheScaledVarianceNoise() {
		// one step, eta 1: prev = deterministic part + eta * sqrt(variance) * noise
		DDIMScheduler det = new DDIMScheduler(TimestepScheduleTest.sd15());
		DDIMScheduler noisy = new DDIMScheduler(TimestepScheduleTest.sd15(), 1.0, new TorchCpuGenerator(0));
		det.setTimesteps(10);
		noisy.setTimesteps(10);
		float[] x = DiffusersFixtures.sample(), eps = DiffusersFixtures.noise();
		float[] a = noisy.step(eps, 901, x);
		// rebuild the expected value from the formula with the same noise
		TorchCpuGenerator g = new TorchCpuGenerator(0);
		double std = Math.sqrt(noisy.variance(901, 801));
		det.step(eps, 901, x); // the same x0 prediction; eta only changes the direction term and adds noise
		double alphaPrev = Math.sqrt(NoiseSchedule.alphasCumprod(NoiseSchedule.betas(noisy.config()))[801]);
		float[] pred = det.predictedOriginalSample();
		double acPrev = alphaPrev * alphaPrev;
		for (int i = 0; i < a.length; i++) {
			double expected = alphaPrev * pred[i] + Math.sqrt(1 - acPrev - std * std) * eps[i] + std * g.nextGaussian();
			assertEquals(expected, a[i], 1e-5);
		}
	}

	@Test
	void lcmLastStepReturnsTheDenoisedSampleWithoutNoise() {
		LCMScheduler lcm = new LCMScheduler(SchedulerConfig.defaults(SchedulerConfig.LCM), new SplittableRandom(1));
		lcm.setTimesteps(1);
		float[] x = DiffusersFixtures.sample();
		float[] prev = lcm.step(DiffusersFixtures.noise(), 999, x);
		assertArrayEquals(lcm.predictedOriginalSample(), prev);
	}

	@Test
	void stochasticSchedulersNeedAGenerator() {
		assertThrows(NullPointerException.class, () -> new EulerAncestralDiscreteScheduler(TimestepScheduleTest.sd15(),
			null));
		assertThrows(NullPointerException.class, () -> new LCMScheduler(TimestepScheduleTest.sd15(), null));
		assertThrows(IllegalArgumentException.class, () -> new DDIMScheduler(TimestepScheduleTest.sd15(), 0.5, null));
	}

	@Test
	void eulerAncestralDrawsOneNormalPerElementEveryStep() {
		// A generator that counts draws: 10 steps x 768 elements, the last step included (as diffusers)
		long[] draws = { 0 };
		SplittableRandom base = new SplittableRandom(0);
		java.util.random.RandomGenerator counting = new java.util.random.RandomGenerator() {

			@Override
			public long nextLong() {
				return base.nextLong();
			}

			@Override
			public double nextGaussian() {
				draws[0]++;
				return base.nextGaussian();
			}
		};
		run(new EulerAncestralDiscreteScheduler(TimestepScheduleTest.sd15(), counting), 10, true);
		assertEquals(10L * DiffusersFixtures.SIZE, draws[0]);
		assertNotEquals(0, draws[0]);
	}
}
