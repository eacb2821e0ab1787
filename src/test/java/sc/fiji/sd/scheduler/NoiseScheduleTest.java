package sc.fiji.sd.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The shared noise-schedule arithmetic: torch/numpy precision facts and the sigma ↔ timestep maps. */
class NoiseScheduleTest {

	@Test
	void torchLinspaceHitsBothEndpointsExactly() {
		float[] v = NoiseSchedule.torchLinspace(1e-4, 0.02, 1000);
		assertEquals(1000, v.length);
		assertEquals(1e-4f, v[0]);
		assertEquals(0.02f, v[999]); // counted down from the end, so no accumulated error there
		float step = (0.02f - 1e-4f) / 999;
		assertEquals(Math.fma(step, 499f, 1e-4f), v[499]);
		assertEquals(Math.fma(-step, 499f, 0.02f), v[500]);
	}

	@Test
	void scaledLinearSquaresTheLinspaceOfRoots() {
		float[] betas = NoiseSchedule.betas(TimestepScheduleTest.sd15());
		float first = (float) Math.sqrt(0.00085), last = (float) Math.sqrt(0.012);
		assertEquals(first * first, betas[0]);
		assertEquals(last * last, betas[999]);
	}

	@Test
	void alphasCumprodIsAccumulatedInDoubleAndStoredAsFloat() {
		float[] betas = NoiseSchedule.torchLinspace(1e-4, 0.02, 1000);
		float[] ac = NoiseSchedule.alphasCumprod(betas);
		double product = 1;
		for (int i = 0; i < 1000; i++) {
			product *= 1f - betas[i];
			assertEquals((float) product, ac[i]);
		}
		assertTrue(ac[999] < 1e-4 && ac[999] > 0);
	}

	@Test // diffusers test_scheduler_ddim.py test_variance
	void ddimVarianceMatchesDiffusers() {
		DDIMScheduler ddim = new DDIMScheduler(SchedulerConfig.fromJson(
			"{\"num_train_timesteps\": 1000, \"beta_start\": 0.0001, \"beta_end\": 0.02, \"beta_schedule\": \"linear\"}"));
		assertEquals(0.0, ddim.variance(0, 0), 1e-5);
		assertEquals(0.14771, ddim.variance(420, 400), 1e-5);
		assertEquals(0.32460, ddim.variance(980, 960), 1e-5);
		assertEquals(0.00979, ddim.variance(487, 486), 1e-5);
		assertEquals(0.02, ddim.variance(999, 998), 1e-5);
	}

	@Test
	void cosineScheduleIsCappedAndIncreasing() {
		float[] betas = NoiseSchedule.betas(SchedulerConfig.defaults(SchedulerConfig.DDIM).with("beta_schedule",
			"squaredcos_cap_v2"));
		assertEquals(0.999f, betas[999]);
		assertTrue(betas[0] > 0 && betas[0] < 1e-4);
		for (int i = 1; i < 1000; i++)
			assertTrue(betas[i] >= betas[i - 1]);
	}

	@Test
	void zeroTerminalSnrRescalingEndsAtAlphaBarZero() {
		float[] betas = NoiseSchedule.betas(TimestepScheduleTest.sd15().with("rescale_betas_zero_snr", true));
		float[] ac = NoiseSchedule.alphasCumprod(betas);
		assertEquals(0, ac[999], 1e-12);
		float[] plain = NoiseSchedule.alphasCumprod(NoiseSchedule.betas(TimestepScheduleTest.sd15()));
		assertEquals(plain[0], ac[0], 1e-6); // the first alpha_bar is kept
	}

	@Test
	void numpyLinspaceEndsExactlyAtStop() {
		double[] v = NoiseSchedule.numpyLinspace(0, 1099, 10);
		assertEquals(0, v[0]);
		assertEquals(1099, v[9]);
		assertEquals(1 * (1099 / 9.0), v[1]);
	}

	@Test
	void trailingCountFollowsNumpyArange() {
		assertArrayEquals(new double[] { 999, 749, 499, 249 }, NoiseSchedule.trailingTimesteps(1000, 1000, 4));
		for (int n = 1; n <= 50; n++)
			assertTrue(NoiseSchedule.trailingTimesteps(1000, 1000, n).length >= n);
	}

	@Test
	void sigmaToTInvertsInterpolationAtTrainingTimesteps() {
		float[] sigmas = NoiseSchedule.trainSigmas(NoiseSchedule.alphasCumprod(NoiseSchedule.betas(
			TimestepScheduleTest.sd15())));
		float[] logSigmas = NoiseSchedule.logSigmas(sigmas);
		for (int t : new int[] { 0, 1, 250, 500, 998, 999 })
			assertEquals(t, NoiseSchedule.sigmaToT(sigmas[t], logSigmas), 1e-3);
		// between two training sigmas: interpolated in log sigma
		double mid = Math.sqrt((double) sigmas[500] * sigmas[501]);
		assertEquals(500.5, NoiseSchedule.sigmaToT(mid, logSigmas), 1e-3);
		// outside the table: clamped
		assertEquals(0, NoiseSchedule.sigmaToT(1e-6, logSigmas));
		assertEquals(999, NoiseSchedule.sigmaToT(1e6, logSigmas));
	}

	@Test
	void interpIsLinearBetweenTableEntries() {
		float[] table = { 1, 3, 7 };
		assertEquals(1, NoiseSchedule.interp(0, table));
		assertEquals(2, NoiseSchedule.interp(0.5, table));
		assertEquals(5, NoiseSchedule.interp(1.5, table));
		assertEquals(7, NoiseSchedule.interp(2, table));
		assertEquals(7, NoiseSchedule.interp(5, table));
	}

	@Test
	void karrasSigmasRunFromMaxToMin() {
		double[] s = NoiseSchedule.karrasSigmas(0.0292, 14.6146, 10);
		assertEquals(14.6146, s[0], 1e-12);
		assertEquals(0.0292, s[9], 1e-12);
	}

	@Test
	void indexForTimestepTakesTheSecondOfARepeatedTimestep() {
		double[] schedule = { 999, 666, 666, 333, 333, 0, 0 };
		assertEquals(0, NoiseSchedule.indexForTimestep(schedule, 999));
		assertEquals(2, NoiseSchedule.indexForTimestep(schedule, 666));
		assertEquals(-1, NoiseSchedule.indexForTimestep(schedule, 500));
	}

	@Test
	void lmsCoefficientsIntegrateTheLagrangeBasis() {
		LMSDiscreteScheduler lms = new LMSDiscreteScheduler(TimestepScheduleTest.sd15());
		lms.setTimesteps(10);
		double[] s = lms.sigmas();
		int t = 5, order = 4;
		// the basis polynomials sum to 1, so the coefficients sum to the step length
		double sum = 0;
		for (int j = 0; j < order; j++)
			sum += lms.lmsCoefficient(order, t, j);
		assertEquals(s[t + 1] - s[t], sum, 1e-12);
		// against a fine midpoint rule for the newest derivative's weight
		int n = 200000;
		double h = (s[t + 1] - s[t]) / n, integral = 0;
		for (int i = 0; i < n; i++) {
			double tau = s[t] + (i + 0.5) * h, p = 1;
			for (int k = 1; k < order; k++)
				p *= (tau - s[t - k]) / (s[t] - s[t - k]);
			integral += p * h;
		}
		assertEquals(integral, lms.lmsCoefficient(order, t, 0), 1e-9);
	}
}
