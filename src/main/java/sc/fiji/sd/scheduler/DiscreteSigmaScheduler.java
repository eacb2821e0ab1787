package sc.fiji.sd.scheduler;

/**
 * What diffusers' k-diffusion style schedulers ({@code EulerDiscreteScheduler}, {@code EulerAncestralDiscreteScheduler},
 * {@code LMSDiscreteScheduler}, {@code HeunDiscreteScheduler}) have in common: they work on
 * {@code x = x0 + sigma · noise}, so the model input is scaled by {@code 1 / sqrt(sigma² + 1)}, the initial noise has
 * standard deviation sigma_max, and the current sigma is found by a step index that starts at the first timestep
 * passed in and advances by one per {@link #step}. Their timesteps are float32 values, fractional for linspace
 * spacing and Karras sigmas.
 */
abstract class DiscreteSigmaScheduler extends AbstractScheduler {

	protected final float[] alphasCumprod;
	/** sqrt((1 - alpha_bar) / alpha_bar) for training timesteps 0..T-1 (ascending), float32. */
	protected final float[] trainSigmas;
	protected final float[] logSigmas;

	/** One sigma per timestep plus the final sigma (float32 values), descending. */
	protected double[] sigmas;
	/** Index into {@link #sigmas} of the current step; -1 until the first scaleModelInput or step. */
	protected int stepIndex = -1;

	protected DiscreteSigmaScheduler(SchedulerConfig config, String className) {
		super(config, className);
		this.alphasCumprod = NoiseSchedule.alphasCumprodForSigmas(this.config);
		this.trainSigmas = NoiseSchedule.trainSigmas(alphasCumprod);
		this.logSigmas = NoiseSchedule.logSigmas(trainSigmas);
	}

	/**
	 * The timesteps of a run of {@code n} steps (float32 values, descending) for the configured spacing, as the Euler
	 * family computes them: linspace is not rounded, leading adds steps_offset, trailing ends at T - 1.
	 */
	protected double[] spacedTimesteps(int n) {
		int T = config.numTrainTimesteps();
		NoiseSchedule.checkSteps(n, T);
		switch (config.timestepSpacing()) {
			case "linspace":
				return NoiseSchedule.toFloat32(NoiseSchedule.reversed(NoiseSchedule.numpyLinspace(0, T - 1, n)));
			case "leading":
				return NoiseSchedule.leadingTimesteps(T, n, config.stepsOffset());
			default: // trailing
				return NoiseSchedule.trailingTimesteps(T, T, n);
		}
	}

	/**
	 * Karras sigmas from the schedule's largest to its smallest sigma, or between the configured sigma_max and
	 * sigma_min where the class reads those keys: in diffusers (since 0.24) Euler, Heun, DPM-Solver and UniPC read them
	 * whenever the config has them (diffusers keeps a scheduler_config.json's keys for compatible classes), LMS never.
	 */
	protected double[] karras(double[] scheduleSigmas, int n, boolean configRange) {
		double min = scheduleSigmas[scheduleSigmas.length - 1], max = scheduleSigmas[0];
		if (!configRange) return NoiseSchedule.karrasSigmas(min, max, n);
		double[] range = config.karrasRange(min, max);
		return NoiseSchedule.karrasSigmas(range[0], range[1], n);
	}

	/** The fractional timesteps of sigmas (diffusers' {@code _sigma_to_t}), as float32 values. */
	protected double[] timestepsOfSigmas(double[] s) {
		double[] t = new double[s.length];
		for (int i = 0; i < s.length; i++)
			t[i] = (float) NoiseSchedule.sigmaToT(s[i], logSigmas);
		return t;
	}

	/** sigma at training timestep 0, the smallest sigma of the schedule (final_sigmas_type "sigma_min"). */
	protected double sigmaMinOfTraining() {
		return trainSigmas[0];
	}

	/** The sigmas of the run (one per timestep plus the final one), for tests and diagnostics. */
	public double[] sigmas() {
		return sigmas.clone();
	}

	@Override
	public double initNoiseSigma() {
		double max = 0;
		for (double s : sigmas)
			max = Math.max(max, s);
		String spacing = config.timestepSpacing();
		return spacing.equals("linspace") || spacing.equals("trailing") ? max : Math.sqrt(max * max + 1);
	}

	protected void initStepIndex(double timestep) {
		if (timesteps == null) throw new IllegalStateException("Call setTimesteps before scaleModelInput or step");
		if (stepIndex < 0) stepIndex = NoiseSchedule.requireIndex(timesteps, timestep);
	}

	@Override
	public float[] scaleModelInput(float[] sample, double timestep) {
		initStepIndex(timestep);
		double sigma = sigmas[stepIndex];
		double scale = Math.sqrt(sigma * sigma + 1);
		float[] out = new float[sample.length];
		for (int i = 0; i < out.length; i++)
			out[i] = (float) (sample[i] / scale);
		return out;
	}

	/** The denoised sample x0 predicted from the model output at noise level sigma. */
	protected double predictOriginal(double sample, double modelOutput, double sigma, String predictionType) {
		switch (predictionType) {
			case "epsilon":
				return sample - sigma * modelOutput;
			case "v_prediction":
				return modelOutput * (-sigma / Math.sqrt(sigma * sigma + 1)) + sample / (sigma * sigma + 1);
			default: // sample
				return modelOutput;
		}
	}

	/**
	 * The ODE derivative {@code (x - x0) / sigma} of each element (k-diffusion's {@code to_d}), with x0 the denoised
	 * sample the model output predicts at {@code sigma} (clamped to clip_sample_range when {@code clip}); the x0 become
	 * {@link #predOriginalSample}.
	 */
	protected double[] derivative(float[] modelOutput, float[] sample, double sigma, boolean clip) {
		String prediction = config.predictionType();
		double range = config.clipSampleRange();
		int n = sample.length;
		double[] derivative = new double[n];
		float[] x0 = new float[n];
		for (int i = 0; i < n; i++) {
			double denoised = predictOriginal(sample[i], modelOutput[i], sigma, prediction);
			if (clip) denoised = Math.max(-range, Math.min(range, denoised));
			x0[i] = (float) denoised;
			derivative[i] = (sample[i] - denoised) / sigma;
		}
		predOriginalSample = x0;
		return derivative;
	}

	/** {@code original + sigma(t) · noise}, with t looked up in this run's timesteps. */
	@Override
	public float[] addNoise(float[] original, float[] noise, double timestep) {
		NoiseSchedule.checkSameLength(original, noise, "addNoise");
		if (timesteps == null) throw new IllegalStateException("Call setTimesteps before addNoise");
		double sigma = sigmas[NoiseSchedule.requireIndex(timesteps, timestep)];
		float[] out = new float[original.length];
		for (int i = 0; i < out.length; i++)
			out[i] = (float) (original[i] + noise[i] * sigma);
		return out;
	}
}
