package sc.fiji.sd.scheduler;

/**
 * What every scheduler here keeps the same way: its configuration (the class's defaults filled in), the timesteps of
 * the run and the x0 predicted by the last step. {@link #initNoiseSigma()} 1 and an identity
 * {@link #scaleModelInput} are diffusers' values for the variance-preserving schedulers (DDIM, PNDM, LCM, DPM-Solver,
 * UniPC); the sigma-based ones ({@link DiscreteSigmaScheduler}) override both.
 */
abstract class AbstractScheduler implements Scheduler {

	protected final SchedulerConfig config;
	/** The timesteps of the run, in the order the denoising loop visits them; null before setTimesteps. */
	protected double[] timesteps;
	protected float[] predOriginalSample;

	protected AbstractScheduler(SchedulerConfig config, String className) {
		this.config = config.forClass(className);
	}

	@Override
	public double[] timesteps() {
		return timesteps.clone();
	}

	@Override
	public double initNoiseSigma() {
		return 1.0;
	}

	@Override
	public float[] scaleModelInput(float[] sample, double timestep) {
		return sample;
	}

	@Override
	public float[] predictedOriginalSample() {
		return predOriginalSample;
	}

	@Override
	public SchedulerConfig config() {
		return config;
	}
}
