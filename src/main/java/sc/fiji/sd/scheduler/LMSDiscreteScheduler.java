package sc.fiji.sd.scheduler;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Linear multistep sampling (k-diffusion's {@code sample_lms}), as diffusers' {@code LMSDiscreteScheduler}:
 * A1111's "LMS" (and "LMS Karras" with {@code use_karras_sigmas}). Order 4; deterministic.
 * <p>
 * The coefficients integrate the Lagrange basis polynomials through the last sigmas over the step interval. diffusers
 * uses {@code scipy.integrate.quad}; the integrand is a polynomial of degree at most 3, so three-point Gauss–Legendre
 * quadrature (exact up to degree 5) gives the same numbers.
 */
public class LMSDiscreteScheduler extends DiscreteSigmaScheduler {

	/** diffusers' class name, as {@code "_class_name"} writes it. */
	public static final String CLASS_NAME = "LMSDiscreteScheduler";

	/** diffusers' constructor defaults where they differ from the common ones of {@link SchedulerConfig}. */
	static final Map<String, Object> DEFAULTS = Map.of();

	/** diffusers' default order of {@code step}. */
	public static final int ORDER = 4;

	private static final double[] GL_NODES = { -Math.sqrt(0.6), 0, Math.sqrt(0.6) };
	private static final double[] GL_WEIGHTS = { 5 / 9.0, 8 / 9.0, 5 / 9.0 };

	/** The last (up to ORDER) derivatives, oldest first. */
	private final List<double[]> derivatives = new ArrayList<>();

	public LMSDiscreteScheduler(SchedulerConfig config) {
		super(config, CLASS_NAME);
	}

	@Override
	public void setTimesteps(int n) {
		double[] t = spacedTimesteps(n);
		double[] s = NoiseSchedule.sigmasAt(t, trainSigmas);
		if (config.useKarrasSigmas()) {
			s = karras(s, n, false);
			t = timestepsOfSigmas(s);
		}
		timesteps = t;
		sigmas = NoiseSchedule.withFinalSigma(s, 0);
		stepIndex = -1;
		derivatives.clear();
		predOriginalSample = null;
	}

	/**
	 * The weight of the derivative {@code currentOrder} steps back: the integral over [sigma_t, sigma_{t+1}] of the
	 * Lagrange polynomial that is 1 at sigma_{t - currentOrder} and 0 at the other {@code order - 1} sigmas.
	 */
	double lmsCoefficient(int order, int t, int currentOrder) {
		double a = sigmas[t], b = sigmas[t + 1];
		double half = (b - a) / 2, mid = (a + b) / 2;
		double integral = 0;
		for (int q = 0; q < GL_NODES.length; q++) {
			double tau = mid + half * GL_NODES[q];
			double product = 1;
			for (int k = 0; k < order; k++) {
				if (k == currentOrder) continue;
				product *= (tau - sigmas[t - k]) / (sigmas[t - currentOrder] - sigmas[t - k]);
			}
			integral += GL_WEIGHTS[q] * product;
		}
		return integral * half;
	}

	@Override
	public float[] step(float[] modelOutput, double timestep, float[] sample) {
		NoiseSchedule.checkSameLength(modelOutput, sample, "LMS step");
		initStepIndex(timestep);
		double sigma = sigmas[stepIndex];
		int len = sample.length;
		derivatives.add(derivative(modelOutput, sample, sigma, false));
		if (derivatives.size() > ORDER) derivatives.remove(0);
		int order = Math.min(stepIndex + 1, ORDER);
		double[] coeffs = new double[order];
		for (int j = 0; j < order; j++)
			coeffs[j] = lmsCoefficient(order, stepIndex, j);
		float[] prev = new float[len];
		for (int i = 0; i < len; i++) {
			double x = sample[i];
			// coefficient j goes with the derivative j steps back (the newest first); a run started mid-schedule
			// (image to image) has fewer derivatives than the order, and like diffusers' zip() uses only those
			for (int j = 0; j < Math.min(order, derivatives.size()); j++)
				x += coeffs[j] * derivatives.get(derivatives.size() - 1 - j)[i];
			prev[i] = (float) x;
		}
		stepIndex++;
		return prev;
	}

	@Override
	public String displayName() {
		return config.useKarrasSigmas() ? "LMS Karras" : "LMS";
	}
}
