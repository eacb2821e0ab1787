package sc.fiji.sd.scheduler;

/**
 * What diffusers' {@code DPMSolverMultistepScheduler} and {@code UniPCMultistepScheduler} share (UniPC's copies are
 * marked "Copied from" DPM-Solver there): training sigmas read in the variance-preserving form
 * {@code x_t = alpha_t·x0 + sigma_t·eps} with {@code alpha_t = 1 / sqrt(sigma² + 1)}, one sigma per timestep plus a
 * final one, a step index that falls back to the last step for an unknown timestep, and the history of the last
 * solver_order converted model outputs.
 */
abstract class VpMultistepScheduler extends AbstractScheduler {

	/** alphas_cumprod (with zero terminal SNR the last is 2^-24), the training sigmas and their logs, float32. */
	protected final float[] alphasCumprod;
	protected final float[] trainSigmas;
	protected final float[] logSigmas;

	/** One sigma per timestep plus the final sigma (float32 values). */
	protected double[] sigmas;
	protected int stepIndex = -1;
	/** The converted model outputs (x0 or epsilon) of the last solver_order steps, oldest first (null until filled). */
	protected double[][] modelOutputs;
	/** How many steps have run, up to solver_order: the warm-up lowers the order while history is missing. */
	protected int lowerOrderNums;

	protected VpMultistepScheduler(SchedulerConfig config, String className) {
		super(config, className);
		this.alphasCumprod = NoiseSchedule.alphasCumprodForSigmas(this.config);
		this.trainSigmas = NoiseSchedule.trainSigmas(alphasCumprod);
		this.logSigmas = NoiseSchedule.logSigmas(trainSigmas);
	}

	/**
	 * Karras sigmas over the configured sigma_min .. sigma_max where the config has them (diffusers'
	 * {@code _convert_to_karras} reads them whenever a scheduler_config.json carries them), else over the training
	 * schedule's whole range.
	 */
	protected double[] karrasSigmas(int n) {
		double[] range = config.karrasRange(trainSigmas[0], trainSigmas[trainSigmas.length - 1]);
		return NoiseSchedule.karrasSigmas(range[0], range[1], n);
	}

	/** The sigmas of the run (one per timestep plus the final one). */
	public double[] sigmas() {
		return sigmas.clone();
	}

	protected int indexForTimestep(double timestep) {
		int i = NoiseSchedule.indexForTimestep(timesteps, timestep);
		return i < 0 ? timesteps.length - 1 : i; // diffusers falls back to the last step
	}

	/**
	 * The model output at the current sigma as the solver's variable, x0 ({@code toX0}) or epsilon; its x0 becomes
	 * {@link #predOriginalSample}.
	 */
	protected double[] convertModelOutput(float[] modelOutput, float[] sample, boolean toX0) {
		float[] x0 = new float[sample.length];
		double[] out = NoiseSchedule.vpConvertModelOutput(modelOutput, sample, sigmas[stepIndex], config.predictionType(),
			toX0, x0);
		predOriginalSample = x0;
		return out;
	}

	/** Appends a converted model output to the history, dropping the oldest. */
	protected void pushModelOutput(double[] converted) {
		int order = modelOutputs.length;
		System.arraycopy(modelOutputs, 1, modelOutputs, 0, order - 1);
		modelOutputs[order - 1] = converted;
	}

	/** {@code alpha_t · original + sigma_t · noise} at the sigma of {@code timestep} in this run. */
	@Override
	public float[] addNoise(float[] original, float[] noise, double timestep) {
		if (timesteps == null) throw new IllegalStateException("Call setTimesteps before addNoise");
		return NoiseSchedule.vpAddNoise(original, noise, sigmas[indexForTimestep(timestep)]);
	}
}
