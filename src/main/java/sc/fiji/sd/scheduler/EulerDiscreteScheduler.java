package sc.fiji.sd.scheduler;

import java.util.Map;

/**
 * Euler's method on the probability-flow ODE (Karras et al. 2022, algorithm 2 without churn), as diffusers'
 * {@code EulerDiscreteScheduler}: A1111's "Euler" (and "Euler" + "Karras" with {@code use_karras_sigmas}).
 * Deterministic.
 */
public class EulerDiscreteScheduler extends DiscreteSigmaScheduler {

	/** diffusers' class name, as {@code "_class_name"} writes it. */
	public static final String CLASS_NAME = "EulerDiscreteScheduler";

	/** diffusers' constructor defaults where they differ from the common ones of {@link SchedulerConfig}. */
	static final Map<String, Object> DEFAULTS = Map.of();

	public EulerDiscreteScheduler(SchedulerConfig config) {
		super(config, CLASS_NAME);
	}

	@Override
	public void setTimesteps(int n) {
		double[] t = spacedTimesteps(n);
		double[] s;
		if (config.interpolationType().equals("log_linear")) {
			// diffusers: n + 1 sigmas evenly spaced in log sigma from the largest to the smallest (float32)
			float[] logs = NoiseSchedule.torchLinspace(Math.log(trainSigmas[trainSigmas.length - 1]), Math.log(
				trainSigmas[0]), n + 1);
			s = new double[logs.length];
			for (int i = 0; i < s.length; i++)
				s[i] = (float) Math.exp(logs[i]);
		}
		else s = NoiseSchedule.sigmasAt(t, trainSigmas);
		if (config.useKarrasSigmas()) {
			s = karras(s, n, true);
			t = timestepsOfSigmas(s);
		}
		double last = config.finalSigmasType().equals("sigma_min") ? sigmaMinOfTraining() : 0;
		timesteps = t;
		sigmas = NoiseSchedule.withFinalSigma(s, last);
		stepIndex = -1;
		predOriginalSample = null;
	}

	@Override
	public float[] step(float[] modelOutput, double timestep, float[] sample) {
		NoiseSchedule.checkSameLength(modelOutput, sample, "Euler step");
		initStepIndex(timestep);
		double sigma = sigmas[stepIndex];
		double dt = sigmas[stepIndex + 1] - sigma;
		double[] derivative = derivative(modelOutput, sample, sigma, false);
		float[] prev = new float[sample.length];
		for (int i = 0; i < prev.length; i++)
			prev[i] = (float) (sample[i] + derivative[i] * dt);
		stepIndex++;
		return prev;
	}

	@Override
	public String displayName() {
		return config.useKarrasSigmas() ? "Euler Karras" : "Euler";
	}
}
