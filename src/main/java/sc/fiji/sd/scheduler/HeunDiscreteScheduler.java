package sc.fiji.sd.scheduler;

import java.util.Map;

/**
 * Heun's second-order method on the probability-flow ODE (Karras et al. 2022, algorithm 1), as diffusers'
 * {@code HeunDiscreteScheduler}: A1111's "Heun". Deterministic.
 * <p>
 * Each step needs two model calls: an Euler predictor and a trapezoidal corrector at the next sigma. As in diffusers,
 * {@link #timesteps()} lists every timestep but the first twice ({@code 2n - 1} entries for n steps), so the usual
 * loop "for t in timesteps(): step(model(x, t), t, x)" does both calls; the last step is a plain Euler step to 0.
 */
public class HeunDiscreteScheduler extends DiscreteSigmaScheduler {

	/** diffusers' class name, as {@code "_class_name"} writes it. */
	public static final String CLASS_NAME = "HeunDiscreteScheduler";

	/** diffusers' constructor defaults where they differ from the common ones of {@link SchedulerConfig}. */
	static final Map<String, Object> DEFAULTS = Map.of("beta_start", 0.00085, "beta_end", 0.012);

	// Between the predictor and the corrector: null when the next call is a predictor.
	private double[] prevDerivative;
	private double dt;
	private float[] predictorSample;

	public HeunDiscreteScheduler(SchedulerConfig config) {
		super(config, CLASS_NAME);
	}

	@Override
	public void setTimesteps(int n) {
		double[] t = spacedTimesteps(n);
		double[] s = NoiseSchedule.sigmasAt(t, trainSigmas);
		if (config.useKarrasSigmas()) {
			s = karras(s, n, true);
			t = timestepsOfSigmas(s);
		}
		double[] withZero = NoiseSchedule.withFinalSigma(s, 0); // n + 1 sigmas
		// sigmas: s0, s1, s1, ..., s_{n-1}, s_{n-1}, 0; timesteps: t0, t1, t1, ..., t_{n-1}, t_{n-1}
		sigmas = new double[2 * n];
		timesteps = new double[2 * n - 1];
		sigmas[0] = withZero[0];
		timesteps[0] = (float) t[0];
		for (int i = 1; i < n; i++) {
			sigmas[2 * i - 1] = sigmas[2 * i] = withZero[i];
			timesteps[2 * i - 1] = timesteps[2 * i] = (float) t[i];
		}
		sigmas[2 * n - 1] = withZero[n];
		stepIndex = -1;
		prevDerivative = null;
		predictorSample = null;
		predOriginalSample = null;
	}

	@Override
	public int order() {
		return 2;
	}

	/** Whether the next step call is the first (Euler predictor) half of a Heun step. */
	public boolean inFirstOrderState() {
		return prevDerivative == null;
	}

	@Override
	public float[] step(float[] modelOutput, double timestep, float[] sample) {
		NoiseSchedule.checkSameLength(modelOutput, sample, "Heun step");
		initStepIndex(timestep);
		boolean first = inFirstOrderState();
		double sigma = first ? sigmas[stepIndex] : sigmas[stepIndex - 1];
		double sigmaNext = first ? sigmas[stepIndex + 1] : sigmas[stepIndex];
		// the model saw the sample at sigma (predictor) or at sigma_next (corrector)
		double sigmaInput = first ? sigma : sigmaNext;
		int n = sample.length;
		double[] derivative = derivative(modelOutput, sample, sigmaInput, config.clipSample());
		float[] prev = new float[n];
		if (first) {
			dt = sigmaNext - sigma;
			for (int i = 0; i < n; i++)
				prev[i] = (float) (sample[i] + derivative[i] * dt);
			prevDerivative = derivative;
			predictorSample = sample;
		}
		else {
			for (int i = 0; i < n; i++)
				prev[i] = (float) (predictorSample[i] + (prevDerivative[i] + derivative[i]) / 2 * dt);
			prevDerivative = null;
			predictorSample = null;
		}
		stepIndex++;
		return prev;
	}

	@Override
	public String displayName() {
		return config.useKarrasSigmas() ? "Heun Karras" : "Heun";
	}
}
