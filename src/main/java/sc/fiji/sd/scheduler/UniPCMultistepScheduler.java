package sc.fiji.sd.scheduler;

import static sc.fiji.sd.scheduler.NoiseSchedule.vpAlpha;
import static sc.fiji.sd.scheduler.NoiseSchedule.vpLambda;

import java.util.Arrays;
import java.util.Map;

/**
 * UniPC (Zhao et al. 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of Diffusion Models"),
 * as diffusers' {@code UniPCMultistepScheduler}: A1111's "UniPC". Deterministic; good results in 10–20 steps.
 * <p>
 * Each step first corrects the sample it receives (UniC, using the model output just computed at it), then predicts
 * the next one (UniP) from the last {@code solver_order} model outputs. Both solve a small linear system for their
 * coefficients ({@code B(h)} is {@code h} for "bh1", {@code e^h - 1} for "bh2").
 */
public class UniPCMultistepScheduler extends VpMultistepScheduler {

	/** diffusers' class name, as {@code "_class_name"} writes it. */
	public static final String CLASS_NAME = "UniPCMultistepScheduler";

	/** diffusers' constructor defaults where they differ from the common ones of {@link SchedulerConfig}. */
	static final Map<String, Object> DEFAULTS = Map.of("solver_type", "bh2");

	private final boolean predictX0;
	private final boolean bh1;

	private int thisOrder;
	/** The sample the last prediction started from (the corrector's x_s0); null before the first step. */
	private float[] lastSample;

	public UniPCMultistepScheduler(SchedulerConfig config) {
		super(config, CLASS_NAME);
		this.predictX0 = this.config.predictX0();
		this.bh1 = this.config.uniPcSolverType().equals("bh1");
	}

	@Override
	public void setTimesteps(int n) {
		int T = config.numTrainTimesteps();
		NoiseSchedule.checkSteps(n, T);
		double[] t = NoiseSchedule.multistepTimesteps(config, T, n);
		double[] s;
		double last;
		if (config.useKarrasSigmas()) {
			s = karrasSigmas(n);
			t = new double[s.length];
			for (int i = 0; i < s.length; i++)
				t[i] = Math.rint(NoiseSchedule.sigmaToT(s[i], logSigmas));
			last = config.finalSigmasType().equals("sigma_min") ? s[s.length - 1] : 0;
		}
		else {
			s = NoiseSchedule.sigmasAt(t, trainSigmas);
			last = config.finalSigmasType().equals("sigma_min") ? trainSigmas[0] : 0;
		}
		sigmas = NoiseSchedule.withFinalSigma(s, last);
		timesteps = t;
		stepIndex = -1;
		modelOutputs = new double[config.solverOrder()][];
		lowerOrderNums = 0;
		thisOrder = 0;
		lastSample = null;
		predOriginalSample = null;
	}

	@Override
	public float[] step(float[] modelOutput, double timestep, float[] sample) {
		if (timesteps == null) throw new IllegalStateException("Call setTimesteps before step");
		NoiseSchedule.checkSameLength(modelOutput, sample, "UniPC step");
		if (stepIndex < 0) stepIndex = indexForTimestep(timestep);
		final int index = stepIndex;
		boolean useCorrector = stepIndex > 0 && Arrays.stream(config.disableCorrector()).noneMatch(
			d -> d == index - 1) && lastSample != null;
		// the solver's variable: x0 (predict_x0) or epsilon
		double[] converted = convertModelOutput(modelOutput, sample, predictX0);
		if (useCorrector) sample = correct(converted, lastSample, sample, thisOrder);

		int order = config.solverOrder();
		pushModelOutput(converted);

		int wanted = config.lowerOrderFinal() ? Math.min(order, timesteps.length - stepIndex) : order;
		thisOrder = Math.min(wanted, lowerOrderNums + 1); // warm-up: no more history than there is
		lastSample = sample;
		float[] prev = predict(sample, thisOrder);
		if (lowerOrderNums < order) lowerOrderNums++;
		stepIndex++;
		return prev;
	}

	/**
	 * What UniP and UniC share for one interval, from {@code sigmas[s0]} to {@code sigmas[s0 + 1]} with the newest
	 * model output {@code m0} at s0: the update {@code x_t = cx·x_s0 + cm·m0 + cr·(sum of rho_k·D1_k)}, the scaled
	 * differences {@code D1_k} to the history outputs, and the coefficient system the rhos solve:
	 * {@code R[i][k] = r_k^i} and {@code b[i] = h·phi_{i+1}(h)·i! / B(h)} for {@code i < order}, with
	 * {@code r_k = (lambda_k - lambda_s0) / h} for the history points and r = 1 last.
	 */
	private final class Interval {

		final double[] m0;
		final double[][] d1s;
		final double[][] r;
		final double[] b;
		final double cx, cm, cr;

		Interval(int s0, int order) {
			int k = modelOutputs.length;
			m0 = modelOutputs[k - 1];
			double sigmaT = sigmas[s0 + 1], sigmaS0 = sigmas[s0];
			double alphaT = vpAlpha(sigmaT), alphaS0 = vpAlpha(sigmaS0);
			double sT = sigmaT * alphaT, sS0 = sigmaS0 * alphaS0;
			double lambdaS0 = vpLambda(sigmaS0);
			double h = vpLambda(sigmaT) - lambdaS0;
			double[] rks = new double[order];
			d1s = new double[order - 1][];
			for (int i = 1; i < order; i++) {
				double[] mi = modelOutputs[k - 1 - i];
				rks[i - 1] = (vpLambda(sigmas[s0 - i]) - lambdaS0) / h;
				d1s[i - 1] = difference(mi, m0, rks[i - 1]);
			}
			rks[order - 1] = 1;
			double hh = predictX0 ? -h : h;
			double hPhi1 = Math.expm1(hh);
			double bH = bh1 ? hh : Math.expm1(hh);
			double hPhiK = hPhi1 / hh - 1;
			double factorial = 1;
			r = new double[order][];
			b = new double[order];
			for (int i = 1; i <= order; i++) {
				r[i - 1] = new double[rks.length];
				for (int j = 0; j < rks.length; j++)
					r[i - 1][j] = Math.pow(rks[j], i - 1);
				b[i - 1] = hPhiK * factorial / bH;
				factorial *= i + 1;
				hPhiK = hPhiK / hh - 1 / factorial;
			}
			cx = predictX0 ? sT / sS0 : alphaT / alphaS0;
			cm = predictX0 ? -alphaT * hPhi1 : -sT * hPhi1;
			cr = predictX0 ? -alphaT * bH : -sT * bH;
		}
	}

	/** UniP: the next sample from {@code sample} at sigmas[i] to sigmas[i+1], with {@code order} model outputs. */
	private float[] predict(float[] sample, int order) {
		Interval c = new Interval(stepIndex, order);
		double[] rhos = new double[0];
		if (order == 2) rhos = new double[] { 0.5 };
		else if (order > 2) rhos = solve(topLeft(c.r, order - 1), Arrays.copyOf(c.b, order - 1));
		float[] out = new float[sample.length];
		for (int i = 0; i < out.length; i++) {
			double res = 0;
			for (int j = 0; j < rhos.length; j++)
				res += rhos[j] * c.d1s[j][i];
			out[i] = (float) (c.cx * sample[i] + c.cm * c.m0[i] + c.cr * res);
		}
		return out;
	}

	/**
	 * UniC: corrects {@code thisSample} (at sigmas[i]) with the model output just computed there; m0 is the output at
	 * the previous step (the history is not yet shifted).
	 */
	private float[] correct(double[] thisModelOutput, float[] lastSample, float[] thisSample, int order) {
		Interval c = new Interval(stepIndex - 1, order);
		double[] rhos = order == 1 ? new double[] { 0.5 } : solve(c.r, c.b);
		double rhoT = rhos[rhos.length - 1];
		float[] out = new float[thisSample.length];
		for (int i = 0; i < out.length; i++) {
			double res = 0;
			for (int j = 0; j < order - 1; j++)
				res += rhos[j] * c.d1s[j][i];
			res += rhoT * (thisModelOutput[i] - c.m0[i]);
			out[i] = (float) (c.cx * lastSample[i] + c.cm * c.m0[i] + c.cr * res);
		}
		return out;
	}

	/** (mi - m0) / rk, the scaled difference of two model outputs. */
	private static double[] difference(double[] mi, double[] m0, double rk) {
		double[] d = new double[m0.length];
		for (int i = 0; i < d.length; i++)
			d[i] = (mi[i] - m0[i]) / rk;
		return d;
	}

	private static double[][] topLeft(double[][] a, int n) {
		double[][] out = new double[n][];
		for (int i = 0; i < n; i++)
			out[i] = Arrays.copyOf(a[i], n);
		return out;
	}

	/** Solves the small system a·x = b (Gaussian elimination with partial pivoting). */
	static double[] solve(double[][] a, double[] b) {
		int n = b.length;
		double[][] m = new double[n][];
		for (int i = 0; i < n; i++) {
			m[i] = Arrays.copyOf(a[i], n + 1);
			m[i][n] = b[i];
		}
		for (int col = 0; col < n; col++) {
			int pivot = col;
			for (int row = col + 1; row < n; row++)
				if (Math.abs(m[row][col]) > Math.abs(m[pivot][col])) pivot = row;
			double[] tmp = m[col];
			m[col] = m[pivot];
			m[pivot] = tmp;
			for (int row = col + 1; row < n; row++) {
				double f = m[row][col] / m[col][col];
				for (int j = col; j <= n; j++)
					m[row][j] -= f * m[col][j];
			}
		}
		double[] x = new double[n];
		for (int row = n - 1; row >= 0; row--) {
			double s = m[row][n];
			for (int j = row + 1; j < n; j++)
				s -= m[row][j] * x[j];
			x[row] = s / m[row][row];
		}
		return x;
	}

	@Override
	public String displayName() {
		return config.useKarrasSigmas() ? "UniPC Karras" : "UniPC";
	}
}
