package sc.fiji.sd.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

/**
 * Relations that hold mathematically, as checks of the variants diffusers publishes no constants for: first-order
 * DPM-Solver is DDIM, and every deterministic sampler, used as a pipeline uses it, solves the probability-flow ODE of
 * Gaussian data, whose solution is known in closed form.
 */
class SolverRelationsTest {

	private static SchedulerConfig trailing() {
		return TimestepScheduleTest.sd15().with("timestep_spacing", "trailing");
	}

	@Test // Lu et al.: DPM-Solver-1 (either parametrisation) is DDIM
	void firstOrderDpmSolverIsDdim() {
		for (String algorithm : new String[] { "dpmsolver++", "dpmsolver" }) {
			// the same end point: sigma 0 (alpha_bar 1) for ++, sigma_min (alpha_bar[0]) for the epsilon form
			boolean toZero = algorithm.equals("dpmsolver++");
			DDIMScheduler ddim = new DDIMScheduler(trailing().with("set_alpha_to_one", toZero));
			DPMSolverMultistepScheduler dpm = new DPMSolverMultistepScheduler(trailing().with("solver_order", 1).with(
				"algorithm_type", algorithm).with("final_sigmas_type", toZero ? "zero" : "sigma_min"));
			float[] a = DiffusersFixtures.plainLoop(ddim, 10), b = DiffusersFixtures.plainLoop(dpm, 10);
			assertArrayEquals(ddim.timesteps(), dpm.timesteps());
			for (int i = 0; i < a.length; i++)
				assertEquals(a[i], b[i], 1e-4 * Math.max(1, Math.abs(a[i])), algorithm);
		}
	}

	// ---- Gaussian data: the probability-flow ODE has an exact solution ----
	// For data x0 ~ N(0, S²) the ideal noise prediction at alpha_bar(t) is eps = sigma·x / (alpha²S² + sigma²); in
	// variance-exploding terms (x~ = x / alpha, sigma~ = sigma / alpha) the ODE solution is
	// x~(sigma~) = x~_T · sqrt(S² + sigma~²) / sqrt(S² + sigma~_T²), so every deterministic sampler must end near S·z
	// when it starts from x~_T = z·sqrt(S² + sigma~_T²).

	private static final double S = 0.5;

	private static final float[] ALPHAS_CUMPROD = NoiseSchedule.alphasCumprod(NoiseSchedule.betas(
		TimestepScheduleTest.sd15()));

	/** The ideal epsilon for Gaussian data at (integer) training timestep t, for the VP model input x. */
	private static float[] gaussianDenoiser(float[] x, double t) {
		double a2 = ALPHAS_CUMPROD[(int) t], s2 = 1 - a2;
		float[] eps = new float[x.length];
		for (int i = 0; i < x.length; i++)
			eps[i] = (float) (Math.sqrt(s2) * x[i] / (a2 * S * S + s2));
		return eps;
	}

	private static float[] z() {
		float[] z = DiffusersFixtures.noise();
		for (int i = 0; i < z.length; i++)
			z[i] = 4 * (z[i] - 0.5f); // spread around 0
		return z;
	}

	/** Runs a real pipeline loop (model on the scaled input, step on the unscaled sample); relative error to S·z. */
	private static double gaussianError(Scheduler s, int steps) {
		s.setTimesteps(steps);
		double t0 = s.timesteps()[0];
		double a2 = ALPHAS_CUMPROD[(int) t0];
		double sigmaVE = Math.sqrt((1 - a2) / a2);
		boolean varianceExploding = s.initNoiseSigma() > 1; // sigma-based samplers work on x~
		float[] z = z(), x = new float[z.length];
		for (int i = 0; i < x.length; i++) {
			double xVE = z[i] * Math.sqrt(S * S + sigmaVE * sigmaVE);
			x[i] = (float) (varianceExploding ? xVE : Math.sqrt(a2) * xVE);
		}
		for (double t : s.timesteps())
			x = s.step(gaussianDenoiser(s.scaleModelInput(x, t), t), t, x);
		double err = 0, norm = 0; // exact end (sigma 0): x = S·z
		for (int i = 0; i < x.length; i++) {
			err += Math.abs(x[i] - S * z[i]);
			norm += Math.abs(S * z[i]);
		}
		return err / norm;
	}

	@Test
	void everyDeterministicSamplerSolvesTheGaussianOde() {
		SchedulerConfig c = trailing().with("set_alpha_to_one", true); // end at sigma 0 (DDIM, PNDM)
		Scheduler[] samplers = { new DDIMScheduler(c), new PNDMScheduler(c), new EulerDiscreteScheduler(c),
			new LMSDiscreteScheduler(c), new HeunDiscreteScheduler(c), new DPMSolverMultistepScheduler(c),
			new DPMSolverMultistepScheduler(c.with("solver_order", 3)), new UniPCMultistepScheduler(c) };
		// step counts that divide 1000, so DDIM's and PNDM's "t - T // n" lands on the next trailing timestep
		for (Scheduler s : samplers) {
			double e10 = gaussianError(s, 10), e40 = gaussianError(s, 40);
			// the last step to sigma 0 is first order for all (a big step in log-SNR), so errors shrink ~4x per 4x steps
			assertTrue(e40 < 0.1, s.displayName() + ": " + e40);
			assertTrue(e40 < e10 / 2, s.displayName() + ": " + e10 + " -> " + e40);
		}
		// linear multistep of order 4 is far more accurate on this smooth problem than first-order Euler
		assertTrue(gaussianError(new LMSDiscreteScheduler(c), 10) < gaussianError(new EulerDiscreteScheduler(c), 10)
			/ 5);
	}

	@Test // diffusers: n + 1 sigmas evenly spaced in log sigma, then the final sigma (n + 2 in all)
	void eulerLogLinearInterpolation() {
		EulerDiscreteScheduler euler = new EulerDiscreteScheduler(TimestepScheduleTest.sd15().with("interpolation_type",
			"log_linear"));
		euler.setTimesteps(10);
		double[] s = euler.sigmas();
		assertEquals(12, s.length);
		double ratio = s[1] / s[0];
		for (int i = 1; i < 11; i++)
			assertEquals(ratio, s[i] / s[i - 1], 1e-5);
		assertEquals(0, s[11]);
	}

	@Test
	void uniPcBh1AndBh2Differ() {
		float[] bh2 = DiffusersFixtures.plainLoop(new UniPCMultistepScheduler(TimestepScheduleTest.sd15()), 10);
		float[] bh1 = DiffusersFixtures.plainLoop(new UniPCMultistepScheduler(TimestepScheduleTest.sd15().with(
			"solver_type", "bh1")), 10);
		float[] noCorrector = DiffusersFixtures.plainLoop(new UniPCMultistepScheduler(TimestepScheduleTest.sd15().with(
			"disable_corrector", new double[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 })), 10);
		assertFalse(Arrays.equals(bh1, bh2));
		assertFalse(Arrays.equals(noCorrector, bh2));
	}
}
