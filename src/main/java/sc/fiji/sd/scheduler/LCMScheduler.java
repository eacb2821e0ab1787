package sc.fiji.sd.scheduler;

import java.util.Map;
import java.util.Objects;
import java.util.random.RandomGenerator;

import sc.fiji.sd.StableDiffusionException;

/**
 * Latent Consistency Model sampling (Luo et al. 2023, multistep consistency sampling), as diffusers'
 * {@code LCMScheduler}: A1111's "LCM". For LCM-distilled models (or an LCM-LoRA); 2–8 steps.
 * <p>
 * Each step predicts the denoised latent with the consistency boundary condition ({@code c_skip}, {@code c_out}) and
 * re-noises it to the next timestep with fresh noise from the generator given at construction ({@code nextGaussian()}
 * per element in array order; no noise after the last step). {@link #predictedOriginalSample()} is the denoised
 * prediction of the last step, what LCM pipelines decode at the end.
 */
public class LCMScheduler extends AlphaBarScheduler {

	/** diffusers' class name, as {@code "_class_name"} writes it. */
	public static final String CLASS_NAME = "LCMScheduler";

	/** diffusers' constructor defaults where they differ from the common ones of {@link SchedulerConfig}. */
	static final Map<String, Object> DEFAULTS = Map.of("beta_start", 0.00085, "beta_end", 0.012, "beta_schedule", "scaled_linear",
		"set_alpha_to_one", true, "timestep_spacing", "leading");

	/** diffusers' sigma_data of the boundary-condition scalings. */
	private static final double SIGMA_DATA = 0.5;

	private final RandomGenerator rng;

	private int stepIndex = -1;

	public LCMScheduler(SchedulerConfig config, RandomGenerator rng) {
		super(config, CLASS_NAME);
		this.rng = Objects.requireNonNull(rng, "LCM needs a random generator");
		if (this.config.originalInferenceSteps() > this.config.numTrainTimesteps()) throw new StableDiffusionException(
			"\"original_inference_steps\" (" + this.config.originalInferenceSteps() + ") is larger than"
				+ " \"num_train_timesteps\" (" + this.config.numTrainTimesteps() + "); allowed values are 1 to "
				+ this.config.numTrainTimesteps() + ".");
	}

	/**
	 * Picks {@code n} of the {@code original_inference_steps} timesteps the model was distilled on
	 * ({@code k-1, 2k-1, ..., T-1} with {@code k = T // original_inference_steps}), evenly from the noisiest.
	 */
	@Override
	public void setTimesteps(int n) {
		int T = config.numTrainTimesteps();
		int originalSteps = config.originalInferenceSteps();
		int k = T / originalSteps;
		if (n < 1 || n > originalSteps) throw new IllegalArgumentException("LCM steps must be between 1 and "
			+ originalSteps + " (original_inference_steps), was " + n);
		// the distillation timesteps, descending
		int[] origin = new int[originalSteps];
		for (int i = 0; i < originalSteps; i++)
			origin[i] = (originalSteps - i) * k - 1;
		timesteps = new double[n];
		double stride = (double) originalSteps / n; // np.linspace(0, len, n, endpoint=False), floored
		for (int i = 0; i < n; i++)
			timesteps[i] = origin[(int) Math.floor(i * stride)];
		stepIndex = -1;
		predOriginalSample = null;
	}

	@Override
	public float[] step(float[] modelOutput, double timestep, float[] sample) {
		if (timesteps == null) throw new IllegalStateException("Call setTimesteps before step");
		NoiseSchedule.checkSameLength(modelOutput, sample, "LCM step");
		if (stepIndex < 0) stepIndex = NoiseSchedule.requireIndex(timesteps, timestep);
		int t = (int) timestep;
		int prevIndex = stepIndex + 1;
		int prevT = prevIndex < timesteps.length ? (int) timesteps[prevIndex] : t;
		double alphaProdT = alphasCumprod[t];
		double alphaProdTPrev = prevT >= 0 ? alphasCumprod[prevT] : finalAlphaCumprod;
		double sqrtA = Math.sqrt(alphaProdT), sqrtB = Math.sqrt(1 - alphaProdT);

		// consistency-model boundary condition: c_skip -> 1 and c_out -> 0 as t -> 0
		double scaled = t * config.timestepScaling();
		double cSkip = SIGMA_DATA * SIGMA_DATA / (scaled * scaled + SIGMA_DATA * SIGMA_DATA);
		double cOut = scaled / Math.sqrt(scaled * scaled + SIGMA_DATA * SIGMA_DATA);

		boolean last = stepIndex == timesteps.length - 1;
		boolean clip = config.clipSample();
		double range = config.clipSampleRange();
		String prediction = config.predictionType();
		double sqrtAPrev = Math.sqrt(alphaProdTPrev), sqrtBPrev = Math.sqrt(1 - alphaProdTPrev);
		int n = sample.length;
		float[] denoisedOut = new float[n];
		float[] prev = new float[n];
		for (int i = 0; i < n; i++) {
			double x = sample[i];
			double x0 = NoiseSchedule.predictedX0(prediction, x, modelOutput[i], sqrtA, sqrtB);
			if (clip) x0 = Math.max(-range, Math.min(range, x0));
			double denoised = cOut * x0 + cSkip * x;
			denoisedOut[i] = (float) denoised;
			prev[i] = last ? (float) denoised : (float) (sqrtAPrev * (float) denoised + sqrtBPrev * rng.nextGaussian());
		}
		predOriginalSample = denoisedOut;
		stepIndex++;
		return prev;
	}

	@Override
	public String displayName() {
		return "LCM";
	}
}
