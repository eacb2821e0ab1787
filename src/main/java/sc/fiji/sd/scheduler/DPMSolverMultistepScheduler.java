package sc.fiji.sd.scheduler;

import static sc.fiji.sd.scheduler.NoiseSchedule.vpAlpha;
import static sc.fiji.sd.scheduler.NoiseSchedule.vpLambda;

import java.util.Map;
import java.util.random.RandomGenerator;

import sc.fiji.sd.StableDiffusionException;

/**
 * Multistep DPM-Solver (Lu et al. 2022, "DPM-Solver" and "DPM-Solver++"), as diffusers'
 * {@code DPMSolverMultistepScheduler}. With the defaults (algorithm_type dpmsolver++, solver_order 2, midpoint) this is
 * A1111's "DPM++ 2M"; with {@code use_karras_sigmas} "DPM++ 2M Karras"; algorithm_type sde-dpmsolver++ is
 * "DPM++ 2M SDE" and draws fresh noise every step from the generator given at construction.
 * <p>
 * Works in log-SNR time {@code lambda = log(alpha_t / sigma_t)}; {@code h} is the step in lambda. The first step is
 * first order (no history yet); {@code lower_order_final} also lowers the order of the last steps of short runs
 * (&lt; 15 steps), which stabilises few-step sampling.
 */
public class DPMSolverMultistepScheduler extends VpMultistepScheduler {

	/** diffusers' class name, as {@code "_class_name"} writes it. */
	public static final String CLASS_NAME = "DPMSolverMultistepScheduler";

	/** diffusers' constructor defaults where they differ from the common ones of {@link SchedulerConfig}. */
	static final Map<String, Object> DEFAULTS = Map.of();

	private final RandomGenerator rng;
	private final boolean plusPlus;
	private final boolean sde;

	/** A deterministic DPM-Solver (algorithm_type dpmsolver++ or dpmsolver). */
	public DPMSolverMultistepScheduler(SchedulerConfig config) {
		this(config, null);
	}

	/** {@code rng} is needed for the SDE variants (sde-dpmsolver++, sde-dpmsolver) and ignored otherwise. */
	public DPMSolverMultistepScheduler(SchedulerConfig config, RandomGenerator rng) {
		super(config, CLASS_NAME);
		String algorithm = this.config.algorithmType();
		this.plusPlus = algorithm.endsWith("++");
		this.sde = algorithm.startsWith("sde-");
		if (sde && rng == null) throw new IllegalArgumentException(algorithm + " needs a random generator");
		this.rng = rng;
		if (!plusPlus && this.config.finalSigmasType().equals("zero")) throw new StableDiffusionException(
			"\"final_sigmas_type\": \"zero\" does not work with \"algorithm_type\": \"" + algorithm
				+ "\" (as in diffusers); allowed values with it are: sigma_min.");
		if (algorithm.equals("sde-dpmsolver") && this.config.solverOrder() == 3) throw new StableDiffusionException(
			"\"solver_order\": 3 does not work with \"algorithm_type\": \"sde-dpmsolver\"; allowed values are 1, 2.");
		if (this.config.varianceType() != null) throw new StableDiffusionException("\"variance_type\": \""
			+ this.config.varianceType() + "\" (learned variance) is not supported; allowed values are: null.");
	}

	@Override
	public void setTimesteps(int n) {
		int T = config.numTrainTimesteps();
		NoiseSchedule.checkSteps(n, T);
		double[] t = NoiseSchedule.multistepTimesteps(config, T - clippedIndex(), n);
		double[] s;
		if (config.useKarrasSigmas()) {
			s = karrasSigmas(n);
			t = new double[s.length];
			for (int i = 0; i < s.length; i++) {
				double ti = NoiseSchedule.sigmaToT(s[i], logSigmas);
				t[i] = config.betaSchedule().equals("squaredcos_cap_v2") ? (long) ti : Math.rint(ti);
			}
		}
		else s = NoiseSchedule.sigmasAt(t, trainSigmas);
		double last = config.finalSigmasType().equals("sigma_min") ? trainSigmas[0] : 0;
		sigmas = NoiseSchedule.withFinalSigma(s, last);
		timesteps = t;
		stepIndex = -1;
		modelOutputs = new double[config.solverOrder()][];
		lowerOrderNums = 0;
		predOriginalSample = null;
	}

	/** How many of the noisiest training timesteps lambda_min_clipped cuts off (0 by default). */
	private int clippedIndex() {
		double clip = config.lambdaMinClipped();
		if (clip == Double.NEGATIVE_INFINITY) return 0;
		// lambda_t decreases with t; searchsorted on the flipped (ascending) table
		int n = alphasCumprod.length;
		for (int i = 0; i < n; i++) {
			float a = alphasCumprod[n - 1 - i];
			float lambda = (float) Math.log((float) Math.sqrt(a)) - (float) Math.log((float) Math.sqrt(1f - a));
			if (lambda >= clip) return i;
		}
		return n;
	}

	@Override
	public float[] step(float[] modelOutput, double timestep, float[] sample) {
		if (timesteps == null) throw new IllegalStateException("Call setTimesteps before step");
		NoiseSchedule.checkSameLength(modelOutput, sample, "DPM-Solver step");
		if (stepIndex < 0) stepIndex = indexForTimestep(timestep);
		int len = timesteps.length;
		boolean lowerOrderFinal = stepIndex == len - 1 && (config.eulerAtFinal() || (config.lowerOrderFinal()
			&& len < 15) || config.finalSigmasType().equals("zero"));
		boolean lowerOrderSecond = stepIndex == len - 2 && config.lowerOrderFinal() && len < 15;

		// the solver's variable: x0 for DPM-Solver++, epsilon for DPM-Solver
		double[] converted = convertModelOutput(modelOutput, sample, plusPlus);
		int order = config.solverOrder();
		pushModelOutput(converted);

		double[] noise = null;
		if (sde) {
			noise = new double[sample.length];
			for (int i = 0; i < noise.length; i++)
				noise[i] = rng.nextGaussian();
		}
		double[] prev;
		if (order == 1 || lowerOrderNums < 1 || lowerOrderFinal) prev = firstOrderUpdate(converted, sample, noise);
		else if (order == 2 || lowerOrderNums < 2 || lowerOrderSecond) prev = secondOrderUpdate(sample, noise);
		else prev = thirdOrderUpdate(sample, noise);
		if (lowerOrderNums < order) lowerOrderNums++;
		stepIndex++;
		return NoiseSchedule.toFloat(prev);
	}

	/** DPM-Solver-1 (equivalent to DDIM) from sigmas[i] to sigmas[i+1]. */
	private double[] firstOrderUpdate(double[] m, float[] sample, double[] noise) {
		double sigmaT = sigmas[stepIndex + 1], sigmaS = sigmas[stepIndex];
		double alphaT = vpAlpha(sigmaT), alphaS = vpAlpha(sigmaS);
		double sT = sigmaT * alphaT, sS = sigmaS * alphaS;
		double h = vpLambda(sigmaT) - vpLambda(sigmaS);
		double cx, cm, cn = 0;
		switch (config.algorithmType()) {
			case "dpmsolver++":
				cx = sT / sS;
				cm = -alphaT * (Math.exp(-h) - 1.0);
				break;
			case "dpmsolver":
				cx = alphaT / alphaS;
				cm = -sT * (Math.exp(h) - 1.0);
				break;
			case "sde-dpmsolver++":
				cx = sT / sS * Math.exp(-h);
				cm = alphaT * (1 - Math.exp(-2.0 * h));
				cn = sT * Math.sqrt(1.0 - Math.exp(-2 * h));
				break;
			default: // sde-dpmsolver
				cx = alphaT / alphaS;
				cm = -2.0 * sT * (Math.exp(h) - 1.0);
				cn = sT * Math.sqrt(Math.exp(2 * h) - 1.0);
		}
		double[] out = new double[sample.length];
		for (int i = 0; i < out.length; i++)
			out[i] = cx * sample[i] + cm * m[i] + (noise == null ? 0 : cn * noise[i]);
		return out;
	}

	/** Multistep DPM-Solver-2 with the last two model outputs (midpoint or Heun form). */
	private double[] secondOrderUpdate(float[] sample, double[] noise) {
		int k = modelOutputs.length;
		double[] m0 = modelOutputs[k - 1], m1 = modelOutputs[k - 2];
		double sigmaT = sigmas[stepIndex + 1], sigmaS0 = sigmas[stepIndex], sigmaS1 = sigmas[stepIndex - 1];
		double alphaT = vpAlpha(sigmaT), alphaS0 = vpAlpha(sigmaS0);
		double sT = sigmaT * alphaT, sS0 = sigmaS0 * alphaS0;
		double lambdaT = vpLambda(sigmaT), lambdaS0 = vpLambda(sigmaS0), lambdaS1 = vpLambda(sigmaS1);
		double h = lambdaT - lambdaS0, h0 = lambdaS0 - lambdaS1;
		double r0 = h0 / h;
		boolean midpoint = config.solverType().equals("midpoint");
		double cx, c0, c1, cn = 0; // x_t = cx·x + c0·D0 + c1·D1 (+ cn·noise)
		switch (config.algorithmType()) {
			case "dpmsolver++":
				cx = sT / sS0;
				c0 = -alphaT * (Math.exp(-h) - 1.0);
				c1 = midpoint ? -0.5 * alphaT * (Math.exp(-h) - 1.0) : alphaT * ((Math.exp(-h) - 1.0) / h + 1.0);
				break;
			case "dpmsolver":
				cx = alphaT / alphaS0;
				c0 = -sT * (Math.exp(h) - 1.0);
				c1 = midpoint ? -0.5 * sT * (Math.exp(h) - 1.0) : -sT * ((Math.exp(h) - 1.0) / h - 1.0);
				break;
			case "sde-dpmsolver++":
				cx = sT / sS0 * Math.exp(-h);
				c0 = alphaT * (1 - Math.exp(-2.0 * h));
				c1 = midpoint ? 0.5 * alphaT * (1 - Math.exp(-2.0 * h)) : alphaT * ((1.0 - Math.exp(-2.0 * h)) / (-2.0
					* h) + 1.0);
				cn = sT * Math.sqrt(1.0 - Math.exp(-2 * h));
				break;
			default: // sde-dpmsolver
				cx = alphaT / alphaS0;
				c0 = -2.0 * sT * (Math.exp(h) - 1.0);
				c1 = midpoint ? -sT * (Math.exp(h) - 1.0) : -2.0 * sT * ((Math.exp(h) - 1.0) / h - 1.0);
				cn = sT * Math.sqrt(Math.exp(2 * h) - 1.0);
		}
		double[] out = new double[sample.length];
		for (int i = 0; i < out.length; i++) {
			double d0 = m0[i], d1 = (1.0 / r0) * (m0[i] - m1[i]);
			out[i] = cx * sample[i] + c0 * d0 + c1 * d1 + (noise == null ? 0 : cn * noise[i]);
		}
		return out;
	}

	/** Multistep DPM-Solver-3 with the last three model outputs. */
	private double[] thirdOrderUpdate(float[] sample, double[] noise) {
		int k = modelOutputs.length;
		double[] m0 = modelOutputs[k - 1], m1 = modelOutputs[k - 2], m2 = modelOutputs[k - 3];
		double sigmaT = sigmas[stepIndex + 1], sigmaS0 = sigmas[stepIndex], sigmaS1 = sigmas[stepIndex - 1],
			sigmaS2 = sigmas[stepIndex - 2];
		double alphaT = vpAlpha(sigmaT), alphaS0 = vpAlpha(sigmaS0);
		double sT = sigmaT * alphaT, sS0 = sigmaS0 * alphaS0;
		double lambdaT = vpLambda(sigmaT), lambdaS0 = vpLambda(sigmaS0), lambdaS1 = vpLambda(sigmaS1),
			lambdaS2 = vpLambda(sigmaS2);
		double h = lambdaT - lambdaS0, h0 = lambdaS0 - lambdaS1, h1 = lambdaS1 - lambdaS2;
		double r0 = h0 / h, r1 = h1 / h;
		double cx, c0, c1, c2, cn = 0; // x_t = cx·x + c0·D0 + c1·D1 + c2·D2 (+ cn·noise)
		switch (config.algorithmType()) {
			case "dpmsolver++":
				cx = sT / sS0;
				c0 = -alphaT * (Math.exp(-h) - 1.0);
				c1 = alphaT * ((Math.exp(-h) - 1.0) / h + 1.0);
				c2 = -alphaT * ((Math.exp(-h) - 1.0 + h) / (h * h) - 0.5);
				break;
			case "dpmsolver":
				cx = alphaT / alphaS0;
				c0 = -sT * (Math.exp(h) - 1.0);
				c1 = -sT * ((Math.exp(h) - 1.0) / h - 1.0);
				c2 = -sT * ((Math.exp(h) - 1.0 - h) / (h * h) - 0.5);
				break;
			default: // sde-dpmsolver++ (sde-dpmsolver with order 3 is rejected in the constructor)
				cx = sT / sS0 * Math.exp(-h);
				c0 = alphaT * (1.0 - Math.exp(-2.0 * h));
				c1 = alphaT * ((1.0 - Math.exp(-2.0 * h)) / (-2.0 * h) + 1.0);
				c2 = alphaT * ((1.0 - Math.exp(-2.0 * h) - 2.0 * h) / ((2.0 * h) * (2.0 * h)) - 0.5);
				cn = sT * Math.sqrt(1.0 - Math.exp(-2 * h));
		}
		double[] out = new double[sample.length];
		for (int i = 0; i < out.length; i++) {
			double d10 = (1.0 / r0) * (m0[i] - m1[i]), d11 = (1.0 / r1) * (m1[i] - m2[i]);
			double d1 = d10 + (r0 / (r0 + r1)) * (d10 - d11);
			double d2 = (1.0 / (r0 + r1)) * (d10 - d11);
			out[i] = cx * sample[i] + c0 * m0[i] + c1 * d1 + c2 * d2 + (noise == null ? 0 : cn * noise[i]);
		}
		return out;
	}

	@Override
	public String displayName() {
		String name = "DPM++ " + config.solverOrder() + "M" + (sde ? " SDE" : "");
		if (!plusPlus) name = "DPM " + config.solverOrder() + "M" + (sde ? " SDE" : "");
		return config.useKarrasSigmas() ? name + " Karras" : name;
	}
}
