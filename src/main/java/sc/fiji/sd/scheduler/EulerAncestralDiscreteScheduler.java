package sc.fiji.sd.scheduler;

import java.util.Map;
import java.util.Objects;
import java.util.random.RandomGenerator;

import sc.fiji.sd.StableDiffusionException;

/**
 * Euler ancestral sampling (k-diffusion's {@code sample_euler_ancestral}), as diffusers'
 * {@code EulerAncestralDiscreteScheduler}: A1111's "Euler a".
 * <p>
 * Each step goes down to {@code sigma_down} deterministically and adds fresh noise of size {@code sigma_up}, drawn from
 * the generator given at construction: {@code nextGaussian()} once per element in array order, every step (also the
 * last, where sigma_up is 0, as diffusers draws it too).
 */
public class EulerAncestralDiscreteScheduler extends DiscreteSigmaScheduler {

	/** diffusers' class name, as {@code "_class_name"} writes it. */
	public static final String CLASS_NAME = "EulerAncestralDiscreteScheduler";

	/** diffusers' constructor defaults where they differ from the common ones of {@link SchedulerConfig}. */
	static final Map<String, Object> DEFAULTS = Map.of();

	private final RandomGenerator rng;

	public EulerAncestralDiscreteScheduler(SchedulerConfig config, RandomGenerator rng) {
		super(config, CLASS_NAME);
		this.rng = Objects.requireNonNull(rng, "Euler a needs a random generator");
		if (this.config.predictionType().equals("sample")) throw new StableDiffusionException(
			"\"prediction_type\": \"sample\" is not supported by Euler a (as in diffusers); allowed values are"
				+ " epsilon, v_prediction.");
	}

	@Override
	public void setTimesteps(int n) {
		timesteps = spacedTimesteps(n);
		sigmas = NoiseSchedule.withFinalSigma(NoiseSchedule.sigmasAt(timesteps, trainSigmas), 0);
		stepIndex = -1;
		predOriginalSample = null;
	}

	@Override
	public float[] step(float[] modelOutput, double timestep, float[] sample) {
		NoiseSchedule.checkSameLength(modelOutput, sample, "Euler a step");
		initStepIndex(timestep);
		double sigmaFrom = sigmas[stepIndex], sigmaTo = sigmas[stepIndex + 1];
		double sigmaUp = Math.sqrt(sigmaTo * sigmaTo * (sigmaFrom * sigmaFrom - sigmaTo * sigmaTo) / (sigmaFrom
			* sigmaFrom));
		double sigmaDown = Math.sqrt(sigmaTo * sigmaTo - sigmaUp * sigmaUp);
		double dt = sigmaDown - sigmaFrom;
		double[] derivative = derivative(modelOutput, sample, sigmaFrom, false);
		float[] prev = new float[sample.length];
		for (int i = 0; i < prev.length; i++)
			prev[i] = (float) (sample[i] + derivative[i] * dt + rng.nextGaussian() * sigmaUp);
		stepIndex++;
		return prev;
	}

	@Override
	public String displayName() {
		return "Euler a";
	}
}
