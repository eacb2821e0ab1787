package sc.fiji.sd.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * addNoise (image to image, inpainting) against the forward-process formulas: DDPM-style schedulers give
 * {@code sqrt(alpha_bar) x + sqrt(1 - alpha_bar) n}, sigma-based ones {@code x + sigma n}, DPM-Solver
 * {@code alpha_t x + sigma_t n} with {@code alpha_t = 1 / sqrt(sigma² + 1)}.
 */
class AddNoiseTest {

	private static final float[] X = DiffusersFixtures.sample(), N = DiffusersFixtures.noise();

	private static float[] alphasCumprod() {
		return NoiseSchedule.alphasCumprod(NoiseSchedule.betas(TimestepScheduleTest.sd15()));
	}

	@Test
	void ddpmStyle() {
		float[] ac = alphasCumprod();
		SchedulerConfig c = TimestepScheduleTest.sd15();
		for (Scheduler s : new Scheduler[] { new DDIMScheduler(c), new PNDMScheduler(c), new LCMScheduler(c,
			new SplittableRandom(0)) })
		{
			s.setTimesteps(20);
			double t = s.timesteps()[5];
			float[] noised = s.addNoise(X, N, t);
			double a = ac[(int) t];
			for (int i = 0; i < X.length; i++)
				assertEquals(Math.sqrt(a) * X[i] + Math.sqrt(1 - a) * N[i], noised[i], 1e-6, s.displayName());
		}
	}

	@Test
	void sigmaStyle() {
		SchedulerConfig c = TimestepScheduleTest.sd15();
		for (DiscreteSigmaScheduler s : new DiscreteSigmaScheduler[] { new EulerDiscreteScheduler(c),
			new EulerAncestralDiscreteScheduler(c, new SplittableRandom(0)), new LMSDiscreteScheduler(c),
			new HeunDiscreteScheduler(c) })
		{
			s.setTimesteps(20);
			int index = s instanceof HeunDiscreteScheduler ? 10 : 5;
			double t = s.timesteps()[index];
			double sigma = s.sigmas()[index];
			float[] noised = s.addNoise(X, N, t);
			for (int i = 0; i < X.length; i++)
				assertEquals(X[i] + sigma * N[i], noised[i], 1e-5, s.displayName());
		}
	}

	@Test
	void sigmaOfATrainingTimestepMatchesAlphaBar() {
		// at an integer timestep, x + sigma n is the DDPM noising divided by sqrt(alpha_bar)
		float[] ac = alphasCumprod();
		EulerDiscreteScheduler euler = new EulerDiscreteScheduler(TimestepScheduleTest.sd15());
		euler.setTimesteps(10); // 999, 888, ...
		double a = ac[888];
		assertEquals(Math.sqrt((1 - a) / a), euler.sigmas()[1], 1e-5);
	}

	@Test
	void dpmSolver() {
		DPMSolverMultistepScheduler dpm = new DPMSolverMultistepScheduler(TimestepScheduleTest.sd15());
		dpm.setTimesteps(20);
		double t = dpm.timesteps()[7];
		double sigma = dpm.sigmas()[7];
		double alpha = 1 / Math.sqrt(sigma * sigma + 1);
		float[] noised = dpm.addNoise(X, N, t);
		for (int i = 0; i < X.length; i++)
			assertEquals(alpha * X[i] + sigma * alpha * N[i], noised[i], 1e-6);
		// which is the DDPM formula at that training timestep
		double a = alphasCumprod()[(int) t];
		assertEquals(Math.sqrt(a), alpha, 1e-6);
	}
}
