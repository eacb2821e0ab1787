package sc.fiji.sd.pipeline;

import sc.fiji.sd.scheduler.Scheduler;

/** Minimal deterministic DDIM (eta 0, epsilon, SD 1.5 betas, leading spacing, offset 1) for pipeline tests. */
final class TestDdim implements Scheduler {
	final double[] alphasCumprod = new double[1000];
	double[] timesteps;
	int ratio;
	float[] x0;

	TestDdim() {
		double a = 1, lo = Math.sqrt(0.00085), hi = Math.sqrt(0.012);
		for (int i = 0; i < 1000; i++) {
			double b = lo + (hi - lo) * i / 999.0;
			a *= 1 - b * b;
			alphasCumprod[i] = a;
		}
	}

	@Override
	public void setTimesteps(int n) {
		ratio = 1000 / n;
		timesteps = new double[n];
		for (int i = 0; i < n; i++) timesteps[i] = (n - 1 - i) * ratio + 1;
	}

	@Override public double[] timesteps() { return timesteps; }
	@Override public double initNoiseSigma() { return 1; }
	@Override public float[] scaleModelInput(float[] sample, double t) { return sample; }

	@Override
	public float[] step(float[] eps, double t, float[] x) {
		int ti = (int) t, prev = ti - ratio;
		double at = alphasCumprod[ti], ap = prev >= 0 ? alphasCumprod[prev] : alphasCumprod[0];
		float[] out = new float[x.length];
		x0 = new float[x.length];
		for (int i = 0; i < x.length; i++) {
			double p = (x[i] - Math.sqrt(1 - at) * eps[i]) / Math.sqrt(at);
			x0[i] = (float) p;
			out[i] = (float) (Math.sqrt(ap) * p + Math.sqrt(1 - ap) * eps[i]);
		}
		return out;
	}

	@Override
	public float[] addNoise(float[] original, float[] noise, double t) {
		double a = alphasCumprod[(int) t];
		float[] out = new float[original.length];
		for (int i = 0; i < out.length; i++) out[i] = (float) (Math.sqrt(a) * original[i] + Math.sqrt(1 - a) * noise[i]);
		return out;
	}

	@Override public float[] predictedOriginalSample() { return x0; }
	@Override public String displayName() { return "DDIM"; }
}
