package sc.fiji.sd.scheduler;

/**
 * What diffusers' DDPM-style schedulers ({@code DDIMScheduler}, {@code PNDMScheduler}, {@code LCMScheduler}) share:
 * they index {@code alphas_cumprod} by integer training timestep, take {@code final_alpha_cumprod} (1 with
 * set_alpha_to_one, else alpha_bar[0]) as the alpha_bar after the last step, and noise a sample with
 * {@code DDPMScheduler.add_noise}, which they all copy.
 */
abstract class AlphaBarScheduler extends AbstractScheduler {

	protected final float[] alphasCumprod;
	/** alpha_bar of the step after the last one: 1 with set_alpha_to_one, else alpha_bar[0]. */
	protected final double finalAlphaCumprod;

	protected AlphaBarScheduler(SchedulerConfig config, String className) {
		super(config, className);
		this.alphasCumprod = NoiseSchedule.alphasCumprod(NoiseSchedule.betas(this.config));
		this.finalAlphaCumprod = this.config.setAlphaToOne() ? 1.0 : alphasCumprod[0];
	}

	/** {@code sqrt(alpha_bar_t) · original + sqrt(1 - alpha_bar_t) · noise} at an integer training timestep. */
	@Override
	public float[] addNoise(float[] original, float[] noise, double timestep) {
		NoiseSchedule.checkSameLength(original, noise, "addNoise");
		double a = alphasCumprod[(int) timestep];
		double sqrtA = Math.sqrt(a), sqrtB = Math.sqrt(1 - a);
		float[] out = new float[original.length];
		for (int i = 0; i < out.length; i++)
			out[i] = (float) (sqrtA * original[i] + sqrtB * noise[i]);
		return out;
	}
}
