package sc.fiji.sd.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The deterministic fixtures of diffusers' scheduler tests ({@code tests/schedulers/test_schedulers.py},
 * huggingface/diffusers, Apache-2.0), so a faithful port reproduces the sums diffusers' own tests assert.
 */
final class DiffusersFixtures {

	private DiffusersFixtures() {}

	static final int B = 4, C = 3, H = 8, W = 8, SIZE = B * C * H * W;

	/** Element (b, c, h, w) of the NCHW tensor is the number {@code c·256 + h·32 + w·4 + b}, counted in CHWB order. */
	private static int counter(int b, int c, int h, int w) {
		return c * 256 + h * 32 + w * 4 + b;
	}

	/** {@code dummy_sample_deter}: counter / 768, float32. */
	static float[] sample() {
		float[] x = new float[SIZE];
		int i = 0;
		for (int b = 0; b < B; b++)
			for (int c = 0; c < C; c++)
				for (int h = 0; h < H; h++)
					for (int w = 0; w < W; w++)
						x[i++] = (float) counter(b, c, h, w) / SIZE;
		return x;
	}

	/** {@code dummy_noise_deter}: the counter reversed, (767 - counter) / 768. */
	static float[] noise() {
		float[] x = new float[SIZE];
		int i = 0;
		for (int b = 0; b < B; b++)
			for (int c = 0; c < C; c++)
				for (int h = 0; h < H; h++)
					for (int w = 0; w < W; w++)
						x[i++] = (float) (SIZE - 1 - counter(b, c, h, w)) / SIZE;
		return x;
	}

	/** {@code dummy_model}: {@code sample * t / (t + 1)} in float32 arithmetic, t a float32 scalar. */
	static float[] model(float[] sample, double t) {
		float tf = (float) t;
		float[] out = new float[sample.length];
		for (int i = 0; i < out.length; i++)
			out[i] = sample[i] * tf / (tf + 1f);
		return out;
	}

	/** Loop A ("plain"): x = step(model(x, t), t, x) for every timestep. */
	static float[] plainLoop(Scheduler s, int steps) {
		s.setTimesteps(steps);
		float[] x = sample();
		for (double t : s.timesteps())
			x = s.step(model(x, t), t, x);
		return x;
	}

	/** Loop B ("sigma"): x scaled by init_noise_sigma; then x = scaleModelInput(x, t); x = step(model(x, t), t, x). */
	static float[] sigmaLoop(Scheduler s, int steps) {
		s.setTimesteps(steps);
		float[] x = scaled(sample(), s.initNoiseSigma());
		for (double t : s.timesteps()) {
			x = s.scaleModelInput(x, t); // diffusers' test quirk: the scaled sample replaces x
			x = s.step(model(x, t), t, x);
		}
		return x;
	}

	/** The "with noise" loops: noise the sample to timesteps[start], then run the rest of the schedule. */
	static float[] noisedLoop(Scheduler s, int steps, int start, boolean sigmaLoop) {
		s.setTimesteps(steps);
		double[] ts = s.timesteps();
		float[] x = sigmaLoop ? scaled(sample(), s.initNoiseSigma()) : sample();
		x = s.addNoise(x, noise(), ts[start]);
		for (int i = start; i < ts.length; i++) {
			double t = ts[i];
			if (sigmaLoop) x = s.scaleModelInput(x, t);
			x = s.step(model(x, t), t, x);
		}
		return x;
	}

	static float[] scaled(float[] x, double factor) {
		float f = (float) factor;
		float[] out = new float[x.length];
		for (int i = 0; i < out.length; i++)
			out[i] = x[i] * f;
		return out;
	}

	static double sumAbs(float[] x) {
		double sum = 0;
		for (float v : x)
			sum += Math.abs(v);
		return sum;
	}

	/**
	 * Asserts diffusers' tolerances: |sum - expected| &lt; sumTol and |mean - expected| &lt; meanTol. With
	 * {@code -DprintSums=1} on the Maven command line the values obtained are printed, for reports.
	 */
	static void assertSumAndMean(float[] x, double expectedSum, double sumTol, double expectedMean, double meanTol) {
		double sum = sumAbs(x);
		if (System.getProperty("printSums") != null) System.out.printf("VALUE %s sum=%.6f mean=%.8f (expected sum %s mean %s)%n",
			StackWalker.getInstance().walk(s -> s.skip(1).findFirst().get().getMethodName()), sum, sum / x.length, expectedSum, expectedMean);
		if (!Double.isNaN(expectedSum)) assertEquals(expectedSum, sum, sumTol, "sum of |x|");
		assertEquals(expectedMean, sum / x.length, meanTol, "mean of |x|");
	}
}
