package sc.fiji.sd.scheduler;

/**
 * A diffusion sampler, mirroring the API of diffusers' schedulers.
 * <p>
 * Arrays are flattened NCHW tensors (latents, model outputs, noise); arithmetic is done in double internally.
 * Stochastic schedulers (Euler a, DDIM with eta &gt; 0, LCM) draw their noise from a seeded generator given at
 * construction, so a run is reproducible.
 */
public interface Scheduler {

	/** Prepares the discrete timesteps (and sigmas) for a run of {@code numInferenceSteps} steps; resets state. */
	void setTimesteps(int numInferenceSteps);

	/**
	 * Timesteps in the order the denoising loop visits them (may be longer than the step count, e.g. PNDM's PRK warm-up,
	 * Heun's two calls per step). Values can be fractional (Euler-family schedulers with linspace spacing or Karras
	 * sigmas): give the UNet the value as a float timestep where its input allows.
	 */
	double[] timesteps();

	/**
	 * Model calls per step (diffusers' {@code order}): 2 for Heun, 1 otherwise. Image to image starts at
	 * {@code timesteps()[tStart * order()]}, as diffusers' pipelines do.
	 */
	default int order() {
		return 1;
	}

	/** Standard deviation of the initial noise: 1 for DDPM-style schedulers, sigma_max (or its variant) for sigma-based ones. */
	double initNoiseSigma();

	/** Scales the denoising model input (sigma-based schedulers divide by sqrt(sigma^2 + 1)); identity otherwise. */
	float[] scaleModelInput(float[] sample, double timestep);

	/** One denoising step from {@code timestep}: returns the previous (less noisy) sample. */
	float[] step(float[] modelOutput, double timestep, float[] sample);

	/** Noises {@code original} to the noise level of {@code timestep} (image to image, inpainting). */
	float[] addNoise(float[] original, float[] noise, double timestep);

	/** The predicted denoised sample (x0) of the last {@link #step}, for previews; null before the first step. */
	default float[] predictedOriginalSample() {
		return null;
	}

	/** The name users know this sampler by (AUTOMATIC1111 style, e.g. "DPM++ 2M Karras"). */
	String displayName();

	/** The configuration this scheduler runs with (the using class's defaults filled in for absent keys). */
	SchedulerConfig config();
}
