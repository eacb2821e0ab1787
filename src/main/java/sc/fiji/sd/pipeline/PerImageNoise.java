package sc.fiji.sd.pipeline;

import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * The step noise of a batch, drawn so that every image replays alone: image {@code k} of a batch whose first seed is
 * {@code s} draws from its own {@code SplittableRandom(s + k)}, exactly what a batch of one with seed {@code s + k}
 * draws.
 * <p>
 * Why it works: every stochastic sampler here (Euler a, DPM++ 2M SDE, LCM, DDIM with eta &gt; 0) draws one value per
 * latent element, in array order (NCHW, image after image), at each step that draws at all. So draw {@code c} belongs
 * to image {@code (c / perImage) mod images}. A sampler that drew otherwise would break this, and
 * {@code BatchReplayTest} checks every sampler of the registry.
 */
final class PerImageNoise implements RandomGenerator {

	private final SplittableRandom[] images;
	private final long perImage;
	private long drawn;

	/**
	 * @param firstSeed seed of the batch's first image
	 * @param images images in the batch
	 * @param perImage latent elements per image (channels × h × w)
	 */
	PerImageNoise(long firstSeed, int images, int perImage) {
		this.images = new SplittableRandom[images];
		for (int k = 0; k < images; k++) this.images[k] = new SplittableRandom(firstSeed + k);
		this.perImage = perImage;
	}

	/** Image {@code k} draws from {@code SplittableRandom(seeds[k])} (variation seeds: one seed for every image). */
	PerImageNoise(long[] seeds, int perImage) {
		this.images = new SplittableRandom[seeds.length];
		for (int k = 0; k < seeds.length; k++) this.images[k] = new SplittableRandom(seeds[k]);
		this.perImage = perImage;
	}

	private SplittableRandom next() {
		return images[(int) ((drawn++ / perImage) % images.length)];
	}

	@Override
	public double nextGaussian() {
		return next().nextGaussian();
	}

	@Override
	public long nextLong() {
		return next().nextLong();
	}
}
