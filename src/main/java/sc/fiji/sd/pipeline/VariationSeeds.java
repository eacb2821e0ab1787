package sc.fiji.sd.pipeline;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.random.RandomGenerator;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.provenance.Provenance;

/**
 * AUTOMATIC1111's variation seeds ("Variation seed", "Variation seed strength"): a family of similar images around
 * one seed. The initial noise of image {@code i} is the spherical interpolation, at the strength, from the noise of its
 * seed to the noise of variation seed {@code v + i}; our noise of a seed is {@code new Random(seed).nextGaussian()} in
 * NCHW order.
 * <p>
 * As in A1111 ({@code processing.py}: {@code all_seeds}, {@code all_subseeds}; {@code rng.py}: {@code slerp}):
 * <ul>
 * <li>with a strength above 0 every image of a run keeps the same seed and only the variation seed counts up, so a
 * batch is a set of variations of one image; at 0 the seeds count up as always and nothing else changes;</li>
 * <li>the interpolation runs per channel and latent column, over the rows (A1111 normalises the [C, H, W] noise along
 * its second axis), and falls back to a linear blend when the two noises are (almost) parallel;</li>
 * <li>step noise of the stochastic samplers comes from the image's seed, not the variation seed.</li>
 * </ul>
 * At strength 1 the initial noise is exactly the variation seed's.
 */
final class VariationSeeds {

	/** A1111's threshold on the mean cosine under which the spherical interpolation would divide by almost 0. */
	private static final double PARALLEL = 0.9995;

	private final long seed;
	private final long variationSeed;
	private final double strength;

	/**
	 * @param seed the run's seed (resolved, not −1)
	 * @param variationSeed the run's variation seed (resolved, not −1)
	 * @param strength 0 … 1; 0 turns variations off
	 */
	VariationSeeds(long seed, long variationSeed, double strength) {
		this.seed = seed;
		this.variationSeed = variationSeed;
		this.strength = strength;
	}

	/** The checks a front end runs before loading a model (see {@link RequestChecks}). */
	static void check(GenerationRequest r) {
		if (!(r.variationStrength() >= 0 && r.variationStrength() <= 1)) {
			throw new StableDiffusionException("Variation strength must be between 0 and 1, not " + r.variationStrength()
				+ " (0 is the seed's image, 1 the variation seed's).");
		}
		if (r.variationSeed() < GenerationRequest.RANDOM_SEED) {
			throw new StableDiffusionException("Variation seed " + r.variationSeed()
				+ " is not possible: use 0 or more, or -1 for a random one.");
		}
	}

	boolean active() {
		return strength > 0;
	}

	/** Seed of image {@code image} of the run: seed + image, or the same seed for all when varying. */
	long seed(int image) {
		return active() ? seed : seed + image;
	}

	/** Variation seed of image {@code image} of the run. */
	long variationSeed(int image) {
		return variationSeed + image;
	}

	/** What the parameters text says of image {@code image}: nothing at strength 0, as A1111. */
	Map<String, String> parameters(int image) {
		Map<String, String> out = new LinkedHashMap<>();
		if (!active()) return out;
		out.put("Variation seed", Long.toString(variationSeed(image)));
		out.put("Variation seed strength", Provenance.number(strength));
		return out;
	}

	/** Step noise of the stochastic samplers for images {@code first … first + images − 1}, one stream per image. */
	RandomGenerator stepNoise(int first, int images, int perImage) {
		long[] seeds = new long[images];
		for (int k = 0; k < images; k++) seeds[k] = seed(first + k);
		return new PerImageNoise(seeds, perImage);
	}

	/** Initial noise [images, channels, h, w] of images {@code first …}. */
	float[] initialNoise(int first, int images, int channels, int h, int w) {
		int perImage = channels * h * w;
		float[] out = new float[images * perImage];
		for (int i = 0; i < images; i++) {
			double[] noise = gaussian(seed(first + i), perImage);
			if (active()) noise = slerp(strength, noise, gaussian(variationSeed(first + i), perImage), channels, h, w);
			for (int k = 0; k < perImage; k++) out[i * perImage + k] = (float) noise[k];
		}
		return out;
	}

	/** The noise of one seed ({@link ImageSource#noise}: what the pipeline has always drawn), widened to double. */
	static double[] gaussian(long seed, int n) {
		float[] noise = ImageSource.noise(seed, 1, n);
		double[] out = new double[n];
		for (int k = 0; k < n; k++) out[k] = noise[k];
		return out;
	}

	/**
	 * Spherical interpolation from {@code low} (t = 0) to {@code high} (t = 1) of [C, H, W] tensors, one angle per
	 * channel and column (the vectors run along H).
	 */
	static double[] slerp(double t, double[] low, double[] high, int channels, int h, int w) {
		double[] out = new double[low.length];
		double[] cos = new double[channels * w];
		double mean = 0;
		for (int c = 0; c < channels; c++) {
			for (int x = 0; x < w; x++) {
				double dot = 0, nl = 0, nh = 0;
				for (int y = 0; y < h; y++) {
					int k = (c * h + y) * w + x;
					dot += low[k] * high[k];
					nl += low[k] * low[k];
					nh += high[k] * high[k];
				}
				cos[c * w + x] = dot / Math.sqrt(nl * nh);
				mean += cos[c * w + x];
			}
		}
		mean /= cos.length;
		for (int c = 0; c < channels; c++) {
			for (int x = 0; x < w; x++) {
				double omega = Math.acos(Math.max(-1, Math.min(1, cos[c * w + x])));
				double so = Math.sin(omega);
				boolean linear = mean > PARALLEL || so == 0;
				double a = linear ? 1 - t : Math.sin((1 - t) * omega) / so;
				double b = linear ? t : Math.sin(t * omega) / so;
				for (int y = 0; y < h; y++) {
					int k = (c * h + y) * w + x;
					out[k] = a * low[k] + b * high[k];
				}
			}
		}
		return out;
	}
}
