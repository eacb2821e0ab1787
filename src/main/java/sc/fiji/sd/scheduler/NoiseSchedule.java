package sc.fiji.sd.scheduler;

import java.util.Arrays;

/**
 * The noise-schedule arithmetic all schedulers share, written to give the same numbers as diffusers (which computes
 * these tables with torch in float32 and numpy in float64).
 * <p>
 * Precision matters where diffusers' own tests are sensitive: betas reproduce torch's float32 {@code linspace},
 * {@code alphas_cumprod} is accumulated in double and stored in float32 (as torch's CPU cumprod does), the training
 * sigmas are float32, and numpy's float64 {@code linspace} and {@code interp} are reproduced operation by operation.
 */
public final class NoiseSchedule {

	private NoiseSchedule() {}

	// ---- Betas and alphas ----

	/**
	 * {@code torch.linspace(start, end, steps, dtype=float32)} on the CPU: the first half counts up from start, the
	 * second half down from end, each with one rounding (fused multiply-add).
	 */
	public static float[] torchLinspace(double start, double end, int steps) {
		float a = (float) start, b = (float) end;
		float[] v = new float[steps];
		if (steps == 1) {
			v[0] = a;
			return v;
		}
		float step = (b - a) / (steps - 1);
		int halfway = steps / 2;
		for (int i = 0; i < steps; i++)
			v[i] = i < halfway ? Math.fma(step, (float) i, a) : Math.fma(-step, (float) (steps - 1 - i), b);
		return v;
	}

	/** The betas of a configuration: trained_betas, or beta_schedule over num_train_timesteps (then zero-SNR rescaled if asked). */
	public static float[] betas(SchedulerConfig c) {
		int n = c.numTrainTimesteps();
		float[] betas;
		double[] trained = c.trainedBetas();
		if (trained != null) {
			betas = new float[n];
			for (int i = 0; i < n; i++)
				betas[i] = (float) trained[i];
		}
		else switch (c.betaSchedule()) {
			case "linear":
				betas = torchLinspace(c.betaStart(), c.betaEnd(), n);
				break;
			case "scaled_linear": // linspace of the square roots, squared (both in float32)
				betas = torchLinspace(Math.sqrt(c.betaStart()), Math.sqrt(c.betaEnd()), n);
				for (int i = 0; i < n; i++)
					betas[i] = betas[i] * betas[i];
				break;
			case "squaredcos_cap_v2":
				betas = betasForAlphaBar(n, 0.999);
				break;
			default:
				throw new IllegalArgumentException(c.betaSchedule());
		}
		return c.rescaleBetasZeroSnr() ? rescaleZeroTerminalSnr(betas) : betas;
	}

	/** The cosine schedule ("squaredcos_cap_v2", Nichol &amp; Dhariwal 2021), betas capped at maxBeta. */
	static float[] betasForAlphaBar(int n, double maxBeta) {
		float[] betas = new float[n];
		for (int i = 0; i < n; i++) {
			double t1 = (double) i / n, t2 = (double) (i + 1) / n;
			betas[i] = (float) Math.min(1 - alphaBarCosine(t2) / alphaBarCosine(t1), maxBeta);
		}
		return betas;
	}

	private static double alphaBarCosine(double t) {
		double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
		return c * c;
	}

	/** Rescales betas to zero terminal SNR (Lin et al. 2023, "Common Diffusion Noise Schedules ... Are Flawed", Alg. 1). */
	static float[] rescaleZeroTerminalSnr(float[] betas) {
		int n = betas.length;
		double[] sqrtAlphaBar = new double[n];
		float[] cumprod = alphasCumprod(betas);
		for (int i = 0; i < n; i++)
			sqrtAlphaBar[i] = Math.sqrt(cumprod[i]);
		double first = sqrtAlphaBar[0], last = sqrtAlphaBar[n - 1];
		double[] alphaBar = new double[n];
		for (int i = 0; i < n; i++) {
			double s = (sqrtAlphaBar[i] - last) * first / (first - last);
			alphaBar[i] = s * s;
		}
		float[] out = new float[n];
		for (int i = 0; i < n; i++)
			out[i] = (float) (1 - (i == 0 ? alphaBar[0] : alphaBar[i] / alphaBar[i - 1]));
		return out;
	}

	/** {@code cumprod(1 - betas)}: accumulated in double, each value stored in float32 (torch's CPU cumprod). */
	public static float[] alphasCumprod(float[] betas) {
		float[] out = new float[betas.length];
		double product = 1;
		for (int i = 0; i < betas.length; i++) {
			product *= (float) (1f - betas[i]);
			out[i] = (float) product;
		}
		return out;
	}

	/**
	 * The alphas_cumprod of a configuration as the sigma-based schedulers use them: zero terminal SNR would make the
	 * last sigma infinite, so diffusers sets the last value to 2^-24 instead.
	 */
	static float[] alphasCumprodForSigmas(SchedulerConfig c) {
		float[] ac = alphasCumprod(betas(c));
		if (c.rescaleBetasZeroSnr()) ac[ac.length - 1] = 0x1p-24f;
		return ac;
	}

	/** The training sigmas {@code sqrt((1 - alphaBar) / alphaBar)} for t = 0..T-1, in float32 as torch computes them. */
	public static float[] trainSigmas(float[] alphasCumprod) {
		float[] sigmas = new float[alphasCumprod.length];
		for (int i = 0; i < sigmas.length; i++) {
			float a = alphasCumprod[i];
			sigmas[i] = (float) Math.sqrt((1f - a) / a);
		}
		return sigmas;
	}

	/** {@code np.log} of the training sigmas (float32 in, float32 out), used to map sigmas back to timesteps. */
	public static float[] logSigmas(float[] trainSigmas) {
		float[] out = new float[trainSigmas.length];
		for (int i = 0; i < out.length; i++)
			out[i] = (float) Math.log(trainSigmas[i]);
		return out;
	}

	// ---- Timestep spacing (Lin et al. 2023, table 2) ----

	/** Fails unless {@code 1 <= n <= numTrainTimesteps}. */
	static void checkSteps(int n, int numTrainTimesteps) {
		if (n < 1 || n > numTrainTimesteps) throw new IllegalArgumentException("Steps must be between 1 and "
			+ numTrainTimesteps + ", was " + n);
	}

	/** {@code np.linspace(start, stop, num)} in float64: {@code i * step + start}, the last value exactly stop. */
	public static double[] numpyLinspace(double start, double stop, int num) {
		double[] v = new double[num];
		if (num == 1) {
			v[0] = start;
			return v;
		}
		double step = (stop - start) / (num - 1);
		for (int i = 0; i < num; i++)
			v[i] = i * step + start;
		v[num - 1] = stop;
		return v;
	}

	/**
	 * "leading" spacing, descending: {@code (n-1)·k, …, k, 0} plus steps_offset, with {@code k = T // n}
	 * (SD 1.5: 50 steps → 981, 961, …, 1).
	 */
	public static double[] leadingTimesteps(int numTrainTimesteps, int n, int stepsOffset) {
		int ratio = numTrainTimesteps / n;
		double[] t = new double[n];
		for (int i = 0; i < n; i++)
			t[i] = (double) (n - 1 - i) * ratio + stepsOffset;
		return t;
	}

	/**
	 * "trailing" spacing, descending: {@code round(arange(T, 0, -T/n)) - 1} (ends at T-1, e.g. SD-Turbo's 999).
	 * Like numpy, the count is {@code ceil(T / (T/n))}, which float rounding can make n + 1.
	 */
	public static double[] trailingTimesteps(int start, int numTrainTimesteps, int n) {
		double ratio = (double) numTrainTimesteps / n;
		int count = (int) Math.ceil((0 - start) / -ratio);
		double[] t = new double[count];
		for (int i = 0; i < count; i++)
			t[i] = Math.rint(start + i * -ratio) - 1;
		return t;
	}

	/**
	 * The timesteps of DPM-Solver and UniPC for the configured spacing, descending: the spacing of n + 1 steps below
	 * {@code lastTimestep} without its final one (linspace rounded; leading adds steps_offset; trailing ends at
	 * lastTimestep - 1).
	 */
	static double[] multistepTimesteps(SchedulerConfig c, int lastTimestep, int n) {
		switch (c.timestepSpacing()) {
			case "linspace":
				return Arrays.copyOf(reversed(rint(numpyLinspace(0, lastTimestep - 1, n + 1))), n);
			case "leading": {
				int ratio = lastTimestep / (n + 1);
				double[] t = new double[n];
				for (int i = 0; i < n; i++)
					t[i] = (double) (n - i) * ratio + c.stepsOffset();
				return t;
			}
			default: // trailing
				return trailingTimesteps(lastTimestep, c.numTrainTimesteps(), n);
		}
	}

	/** Reverses an array in place and returns it. */
	static double[] reversed(double[] a) {
		for (int i = 0, j = a.length - 1; i < j; i++, j--) {
			double x = a[i];
			a[i] = a[j];
			a[j] = x;
		}
		return a;
	}

	/** Rounds every value half to even ({@code np.round}). */
	static double[] rint(double[] a) {
		for (int i = 0; i < a.length; i++)
			a[i] = Math.rint(a[i]);
		return a;
	}

	/** Rounds every value to float32 (a float32 numpy array or torch tensor), keeping the array type. */
	static double[] toFloat32(double[] a) {
		for (int i = 0; i < a.length; i++)
			a[i] = (float) a[i];
		return a;
	}

	// ---- Sigmas ----

	/** {@code np.interp(x, arange(len(fp)), fp)}: linear interpolation of a table at a fractional index. */
	public static double interp(double x, float[] fp) {
		int n = fp.length;
		if (x <= 0) return fp[0];
		if (x >= n - 1) return fp[n - 1];
		int j = (int) Math.floor(x);
		if (x == j) return fp[j];
		double slope = ((double) fp[j + 1] - fp[j]) / 1.0;
		return slope * (x - j) + fp[j];
	}

	/** The sigmas at (possibly fractional) timesteps, interpolated linearly in the training sigma table. */
	public static double[] sigmasAt(double[] timesteps, float[] trainSigmas) {
		double[] s = new double[timesteps.length];
		for (int i = 0; i < s.length; i++)
			s[i] = interp(timesteps[i], trainSigmas);
		return s;
	}

	/** Appends the final sigma ({@code last}) and rounds all to float32, as diffusers stores them. */
	static double[] withFinalSigma(double[] s, double last) {
		double[] out = new double[s.length + 1];
		for (int i = 0; i < s.length; i++)
			out[i] = (float) s[i];
		out[s.length] = (float) last;
		return out;
	}

	/**
	 * Karras et al. (2022) sigmas: n values from sigmaMax to sigmaMin evenly spaced in {@code sigma^(1/7)}.
	 */
	public static double[] karrasSigmas(double sigmaMin, double sigmaMax, int n) {
		double rho = 7.0;
		double[] ramp = numpyLinspace(0, 1, n);
		double minInvRho = Math.pow(sigmaMin, 1 / rho), maxInvRho = Math.pow(sigmaMax, 1 / rho);
		double[] sigmas = new double[n];
		for (int i = 0; i < n; i++)
			sigmas[i] = Math.pow(maxInvRho + ramp[i] * (minInvRho - maxInvRho), rho);
		return sigmas;
	}

	/**
	 * The fractional timestep of a sigma: linear interpolation in log sigma between the two neighbouring training
	 * timesteps (diffusers' {@code _sigma_to_t}).
	 */
	public static double sigmaToT(double sigma, float[] logSigmas) {
		double logSigma = Math.log(Math.max(sigma, 1e-10));
		// low = the last index whose log sigma is <= log_sigma, at most len - 2
		int low = 0;
		for (int i = 0; i < logSigmas.length; i++)
			if (logSigma - logSigmas[i] >= 0) low = i;
		low = Math.min(low, logSigmas.length - 2);
		int high = low + 1;
		float lo = logSigmas[low], hi = logSigmas[high];
		double w = (lo - logSigma) / (float) (lo - hi);
		w = Math.max(0, Math.min(1, w));
		return (1 - w) * low + w * high;
	}

	/**
	 * The index of {@code timestep} in the schedule: the first match, or the second when it occurs more than once
	 * (so a run started in the middle of a Heun or PNDM schedule does not skip a sigma); -1 when absent.
	 */
	public static int indexForTimestep(double[] schedule, double timestep) {
		int first = -1;
		for (int i = 0; i < schedule.length; i++) {
			if (schedule[i] == timestep) {
				if (first >= 0) return i;
				first = i;
			}
		}
		return first;
	}

	/** {@code indexForTimestep}, failing with a clear message when the timestep is not in the schedule. */
	static int requireIndex(double[] schedule, double timestep) {
		int i = indexForTimestep(schedule, timestep);
		if (i < 0) throw new IllegalArgumentException("Timestep " + timestep + " is not one of this scheduler's"
			+ " timesteps " + Arrays.toString(schedule) + "; pass a value from timesteps().");
		return i;
	}

	// ---- Model output to x0 and epsilon ----

	/**
	 * The denoised sample x0 that a model output stands for, given {@code x_t = alpha_t·x0 + sigma_t·eps}
	 * ({@code alpha_t = sqrt(alpha_bar)}, {@code sigma_t = sqrt(1 - alpha_bar)}), for prediction_type epsilon, sample or
	 * v_prediction (any other value is taken as v_prediction, which the configuration has validated).
	 */
	static double predictedX0(String predictionType, double sample, double modelOutput, double alphaT, double sigmaT) {
		switch (predictionType) {
			case "epsilon":
				return (sample - sigmaT * modelOutput) / alphaT;
			case "sample":
				return modelOutput;
			default: // v_prediction
				return alphaT * sample - sigmaT * modelOutput;
		}
	}

	/** The noise epsilon that a model output stands for, as {@link #predictedX0} the denoised sample. */
	static double predictedEpsilon(String predictionType, double sample, double modelOutput, double alphaT,
		double sigmaT)
	{
		switch (predictionType) {
			case "epsilon":
				return modelOutput;
			case "sample":
				return (sample - alphaT * modelOutput) / sigmaT;
			default: // v_prediction
				return alphaT * modelOutput + sigmaT * sample;
		}
	}

	// ---- The variance-preserving view of a sigma (DPM-Solver, UniPC) ----

	/** {@code alpha_t = 1 / sqrt(sigma² + 1)} of a variance-exploding sigma; {@code sigma_t = sigma · alpha_t}. */
	static double vpAlpha(double sigma) {
		return 1 / Math.sqrt(sigma * sigma + 1);
	}

	/** The log-SNR time {@code lambda_t = log(alpha_t) - log(sigma_t)} of a sigma. */
	static double vpLambda(double sigma) {
		double a = vpAlpha(sigma);
		return Math.log(a) - Math.log(sigma * a);
	}

	/** {@code alpha_t · original + sigma_t · noise} at a sigma: diffusers' {@code add_noise} of DPM-Solver and UniPC. */
	static float[] vpAddNoise(float[] original, float[] noise, double sigma) {
		checkSameLength(original, noise, "addNoise");
		double alphaT = vpAlpha(sigma), sigmaT = sigma * alphaT;
		float[] out = new float[original.length];
		for (int i = 0; i < out.length; i++)
			out[i] = (float) (alphaT * original[i] + sigmaT * noise[i]);
		return out;
	}

	/**
	 * The model output at a sigma as the solver's variable, diffusers' {@code convert_model_output} of DPM-Solver and
	 * UniPC: the denoised sample x0 ({@code toX0}) or the noise epsilon, from any prediction_type. The x0 values are
	 * also written, as float32, to {@code x0Out}.
	 */
	static double[] vpConvertModelOutput(float[] modelOutput, float[] sample, double sigma, String predictionType,
		boolean toX0, float[] x0Out)
	{
		double alphaT = vpAlpha(sigma), sigmaT = sigma * alphaT;
		double[] out = new double[sample.length];
		for (int i = 0; i < out.length; i++) {
			double denoised = predictedX0(predictionType, sample[i], modelOutput[i], alphaT, sigmaT);
			out[i] = toX0 ? denoised : predictedEpsilon(predictionType, sample[i], modelOutput[i], alphaT, sigmaT);
			x0Out[i] = (float) denoised;
		}
		return out;
	}

	// ---- Small array helpers ----

	static double[] toDouble(float[] a) {
		double[] d = new double[a.length];
		for (int i = 0; i < a.length; i++)
			d[i] = a[i];
		return d;
	}

	static float[] toFloat(double[] a) {
		float[] f = new float[a.length];
		for (int i = 0; i < a.length; i++)
			f[i] = (float) a[i];
		return f;
	}

	static void checkSameLength(float[] a, float[] b, String what) {
		if (a.length != b.length) throw new IllegalArgumentException(what + ": arrays of different lengths (" + a.length
			+ " and " + b.length + ")");
	}
}
