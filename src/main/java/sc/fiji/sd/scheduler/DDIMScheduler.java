package sc.fiji.sd.scheduler;

import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * DDIM (Song et al. 2021, "Denoising Diffusion Implicit Models"), as diffusers' {@code DDIMScheduler}.
 * <p>
 * With eta = 0 the sampler is deterministic; eta &gt; 0 adds fresh noise each step (eta = 1 is DDPM-like) drawn from
 * the generator given at construction, {@code nextGaussian()} once per element in array order.
 */
public class DDIMScheduler extends AlphaBarScheduler {

	/** diffusers' class name, as {@code "_class_name"} writes it. */
	public static final String CLASS_NAME = "DDIMScheduler";

	/** diffusers' constructor defaults where they differ from the common ones of {@link SchedulerConfig}. */
	static final Map<String, Object> DEFAULTS = Map.of("clip_sample", true, "set_alpha_to_one", true, "timestep_spacing", "leading");

	private final double eta;
	private final RandomGenerator rng;

	private int numInferenceSteps;

	/** Deterministic DDIM (eta = 0). */
	public DDIMScheduler(SchedulerConfig config) {
		this(config, 0, null);
	}

	/** DDIM with noise weight {@code eta} (0..1); {@code rng} is required when eta &gt; 0. */
	public DDIMScheduler(SchedulerConfig config, double eta, RandomGenerator rng) {
		super(config, CLASS_NAME);
		if (!(eta >= 0)) throw new IllegalArgumentException("eta must be >= 0, was " + eta);
		if (eta > 0 && rng == null) throw new IllegalArgumentException("DDIM with eta > 0 needs a random generator");
		this.eta = eta;
		this.rng = rng;
	}

	public double eta() {
		return eta;
	}

	@Override
	public void setTimesteps(int n) {
		int T = config.numTrainTimesteps();
		NoiseSchedule.checkSteps(n, T);
		numInferenceSteps = n;
		switch (config.timestepSpacing()) {
			case "linspace":
				timesteps = NoiseSchedule.reversed(NoiseSchedule.rint(NoiseSchedule.numpyLinspace(0, T - 1, n)));
				break;
			case "leading":
				timesteps = NoiseSchedule.leadingTimesteps(T, n, config.stepsOffset());
				break;
			default: // trailing
				timesteps = NoiseSchedule.trailingTimesteps(T, T, n);
		}
		predOriginalSample = null;
	}

	/** The DDIM variance sigma_t^2 / eta^2 between two training timesteps (eq. 16 of the paper). */
	double variance(int timestep, int prevTimestep) {
		double alphaProdT = alphasCumprod[timestep];
		double alphaProdTPrev = prevTimestep >= 0 ? alphasCumprod[prevTimestep] : finalAlphaCumprod;
		double betaProdT = 1 - alphaProdT, betaProdTPrev = 1 - alphaProdTPrev;
		return betaProdTPrev / betaProdT * (1 - alphaProdT / alphaProdTPrev);
	}

	@Override
	public float[] step(float[] modelOutput, double timestep, float[] sample) {
		if (timesteps == null) throw new IllegalStateException("Call setTimesteps before step");
		NoiseSchedule.checkSameLength(modelOutput, sample, "DDIM step");
		int t = (int) timestep;
		// diffusers steps back by T // n whatever the spacing
		int prevT = t - config.numTrainTimesteps() / numInferenceSteps;
		double alphaProdT = alphasCumprod[t];
		double alphaProdTPrev = prevT >= 0 ? alphasCumprod[prevT] : finalAlphaCumprod;
		double betaProdT = 1 - alphaProdT;
		double sqrtA = Math.sqrt(alphaProdT), sqrtB = Math.sqrt(betaProdT);

		double stdDevT = eta * Math.sqrt(variance(t, prevT));
		double directionCoeff = Math.sqrt(1 - alphaProdTPrev - stdDevT * stdDevT);
		double sqrtAPrev = Math.sqrt(alphaProdTPrev);
		boolean clip = config.clipSample();
		double range = config.clipSampleRange();
		String prediction = config.predictionType();

		int n = sample.length;
		float[] prev = new float[n];
		float[] x0Out = new float[n];
		for (int i = 0; i < n; i++) {
			double x0 = NoiseSchedule.predictedX0(prediction, sample[i], modelOutput[i], sqrtA, sqrtB);
			double eps = NoiseSchedule.predictedEpsilon(prediction, sample[i], modelOutput[i], sqrtA, sqrtB);
			if (clip) x0 = Math.max(-range, Math.min(range, x0));
			double p = sqrtAPrev * x0 + directionCoeff * eps;
			if (eta > 0) p += stdDevT * rng.nextGaussian();
			prev[i] = (float) p;
			x0Out[i] = (float) x0;
		}
		predOriginalSample = x0Out;
		return prev;
	}

	@Override
	public String displayName() {
		return "DDIM";
	}
}
