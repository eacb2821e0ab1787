package sc.fiji.sd.scheduler;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import sc.fiji.sd.StableDiffusionException;

/**
 * PNDM (Liu et al. 2022, "Pseudo Numerical Methods for Diffusion Models on Manifolds"), as diffusers'
 * {@code PNDMScheduler}.
 * <p>
 * With {@code skip_prk_steps = false} the first three steps are Runge–Kutta (PRK) steps, four model calls each
 * ({@link #timesteps()} lists them); then linear multistep (PLMS) steps use the last four model outputs. With
 * {@code skip_prk_steps = true} (SD 1.5) it is pure PLMS, A1111's "PLMS": the second timestep appears twice, because the
 * first step is a predictor–corrector pair of model calls.
 */
public class PNDMScheduler extends AlphaBarScheduler {

	/** diffusers' class name, as {@code "_class_name"} writes it. */
	public static final String CLASS_NAME = "PNDMScheduler";

	/** diffusers' constructor defaults where they differ from the common ones of {@link SchedulerConfig}. */
	static final Map<String, Object> DEFAULTS = Map.of("set_alpha_to_one", false, "timestep_spacing", "leading");

	private static final int PNDM_ORDER = 4;


	private int numInferenceSteps;
	private int[] prkTimesteps = new int[0];

	// Multistep state, reset by setTimesteps.
	private int counter;
	/** Past model outputs (epsilon-space "e_t"), oldest first, at most four. */
	private final List<double[]> ets = new ArrayList<>();
	/** Runge–Kutta accumulator, or the PLMS predictor's sample. */
	private double[] curModelOutput;
	private float[] curSample;

	public PNDMScheduler(SchedulerConfig config) {
		super(config, CLASS_NAME);
		if (this.config.predictionType().equals("sample")) throw new StableDiffusionException(
			"\"prediction_type\": \"sample\" is not supported by PNDM/PLMS (as in diffusers); allowed values are"
				+ " epsilon, v_prediction.");
	}

	@Override
	public void setTimesteps(int n) {
		int T = config.numTrainTimesteps();
		NoiseSchedule.checkSteps(n, T);
		numInferenceSteps = n;
		// ascending training timesteps
		double[] base;
		switch (config.timestepSpacing()) {
			case "linspace":
				base = NoiseSchedule.rint(NoiseSchedule.numpyLinspace(0, T - 1, n));
				break;
			case "leading":
				base = NoiseSchedule.reversed(NoiseSchedule.leadingTimesteps(T, n, config.stepsOffset()));
				break;
			default: // trailing
				base = NoiseSchedule.reversed(NoiseSchedule.trailingTimesteps(T, T, n));
		}
		int m = base.length;
		List<Double> all = new ArrayList<>();
		if (config.skipPrkSteps()) {
			prkTimesteps = new int[0];
			// [t_{m-1}, t_{m-2}, t_{m-2}, t_{m-3}, ..., t_0]: the first PLMS step runs twice at the second timestep
			all.add(base[m - 1]);
			if (m >= 2) all.add(base[m - 2]);
			for (int i = m - 2; i >= 0; i--)
				all.add(base[i]);
		}
		else {
			if (m < PNDM_ORDER) throw new IllegalArgumentException("PNDM with Runge-Kutta warm-up needs at least "
				+ PNDM_ORDER + " steps, was " + n + " (or set skip_prk_steps)");
			int half = T / n / 2;
			// the last four timesteps, each followed by its midpoint: t, t+h, ... (without the final midpoint)
			int[] points = new int[2 * PNDM_ORDER - 1];
			for (int k = 0; k < points.length; k++)
				points[k] = (int) base[m - PNDM_ORDER + k / 2] + (k % 2 == 1 ? half : 0);
			// each point repeated twice, the outer two dropped, reversed: 12 evaluations for 3 RK steps
			int[] repeated = new int[2 * points.length - 2];
			for (int k = 0; k < repeated.length; k++)
				repeated[k] = points[(k + 1) / 2];
			prkTimesteps = new int[repeated.length];
			for (int k = 0; k < repeated.length; k++)
				prkTimesteps[k] = repeated[repeated.length - 1 - k];
			for (int t : prkTimesteps)
				all.add((double) t);
			for (int i = m - PNDM_ORDER; i >= 0; i--)
				all.add(base[i]);
		}
		timesteps = all.stream().mapToDouble(Double::doubleValue).toArray();
		counter = 0;
		ets.clear();
		curModelOutput = null;
		curSample = null;
		predOriginalSample = null;
	}

	@Override
	public float[] step(float[] modelOutput, double timestep, float[] sample) {
		if (timesteps == null) throw new IllegalStateException("Call setTimesteps before step");
		NoiseSchedule.checkSameLength(modelOutput, sample, "PNDM step");
		if (counter < prkTimesteps.length && !config.skipPrkSteps()) return stepPrk(modelOutput, (int) timestep,
			sample);
		return stepPlms(modelOutput, (int) timestep, sample);
	}

	/** One of the four evaluations of a Runge–Kutta step (counter % 4 says which). */
	private float[] stepPrk(float[] modelOutput, int timestep, float[] sample) {
		int diffToPrev = counter % 2 == 1 ? 0 : config.numTrainTimesteps() / numInferenceSteps / 2;
		int prevTimestep = timestep - diffToPrev;
		int t = prkTimesteps[counter / 4 * 4];
		double[] m = NoiseSchedule.toDouble(modelOutput);
		double[] effective = m;
		switch (counter % 4) {
			case 0:
				curModelOutput = scaled(m, 1.0 / 6);
				ets.add(m);
				curSample = sample;
				break;
			case 1:
			case 2:
				addScaled(curModelOutput, m, 1.0 / 3);
				break;
			default:
				effective = curModelOutput;
				addScaled(effective, m, 1.0 / 6);
				curModelOutput = null;
		}
		float[] prev = prevSample(curSample != null ? curSample : sample, t, prevTimestep, effective);
		counter++;
		return prev;
	}

	/** A linear multistep step with the past model outputs (Adams–Bashforth coefficients up to order 4). */
	private float[] stepPlms(float[] modelOutput, int timestep, float[] sample) {
		if (!config.skipPrkSteps() && ets.size() < 3) throw new IllegalStateException(
			"PLMS steps can only run after the Runge-Kutta warm-up (12 model calls)");
		int stride = config.numTrainTimesteps() / numInferenceSteps;
		int prevTimestep = timestep - stride;
		double[] m = NoiseSchedule.toDouble(modelOutput);
		if (counter != 1) {
			while (ets.size() > 3)
				ets.remove(0);
			ets.add(m);
		}
		else { // the corrector half of the first step: same interval as the predictor
			prevTimestep = timestep;
			timestep = timestep + stride;
		}
		int k = ets.size();
		double[] effective;
		if (k == 1 && counter == 0) {
			effective = m;
			curSample = sample;
		}
		else if (k == 1 && counter == 1) {
			effective = combine(new double[] { 0.5, 0.5 }, m, ets.get(k - 1));
			sample = curSample;
			curSample = null;
		}
		else if (k == 2) effective = combine(new double[] { 1.5, -0.5 }, ets.get(k - 1), ets.get(k - 2));
		else if (k == 3) effective = combine(new double[] { 23 / 12.0, -16 / 12.0, 5 / 12.0 }, ets.get(k - 1), ets.get(
			k - 2), ets.get(k - 3));
		else effective = combine(new double[] { 55 / 24.0, -59 / 24.0, 37 / 24.0, -9 / 24.0 }, ets.get(k - 1), ets.get(
			k - 2), ets.get(k - 3), ets.get(k - 4));
		float[] prev = prevSample(sample, timestep, prevTimestep, effective);
		counter++;
		return prev;
	}

	/** x_{t-δ} from x_t and the (combined) model output: formula (9) of the PNDM paper. */
	private float[] prevSample(float[] sample, int timestep, int prevTimestep, double[] modelOutput) {
		double alphaProdT = alphasCumprod[timestep];
		double alphaProdTPrev = prevTimestep >= 0 ? alphasCumprod[prevTimestep] : finalAlphaCumprod;
		double betaProdT = 1 - alphaProdT, betaProdTPrev = 1 - alphaProdTPrev;
		String prediction = config.predictionType();
		double sampleCoeff = Math.sqrt(alphaProdTPrev / alphaProdT);
		double denom = alphaProdT * Math.sqrt(betaProdTPrev) + Math.sqrt(alphaProdT * betaProdT * alphaProdTPrev);
		double sqrtA = Math.sqrt(alphaProdT), sqrtB = Math.sqrt(betaProdT);
		float[] prev = new float[sample.length];
		float[] x0 = new float[sample.length];
		for (int i = 0; i < prev.length; i++) {
			double x = sample[i];
			double eps = NoiseSchedule.predictedEpsilon(prediction, x, modelOutput[i], sqrtA, sqrtB);
			prev[i] = (float) (sampleCoeff * x - (alphaProdTPrev - alphaProdT) * eps / denom);
			x0[i] = (float) ((x - sqrtB * eps) / sqrtA);
		}
		predOriginalSample = x0;
		return prev;
	}

	private static double[] scaled(double[] a, double s) {
		double[] out = new double[a.length];
		for (int i = 0; i < a.length; i++)
			out[i] = s * a[i];
		return out;
	}

	private static void addScaled(double[] acc, double[] a, double s) {
		for (int i = 0; i < a.length; i++)
			acc[i] += s * a[i];
	}

	private static double[] combine(double[] coeffs, double[]... arrays) {
		double[] out = new double[arrays[0].length];
		for (int k = 0; k < coeffs.length; k++)
			addScaled(out, arrays[k], coeffs[k]);
		return out;
	}

	@Override
	public String displayName() {
		return config.skipPrkSteps() ? "PLMS" : "PNDM";
	}
}
