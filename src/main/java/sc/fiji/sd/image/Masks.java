package sc.fiji.sd.image;

import net.imglib2.RandomAccess;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.real.FloatType;
import net.imglib2.view.Views;
import sc.fiji.sd.StableDiffusionException;

/**
 * Inpainting masks: X × Y in [0, 1], where at least 0.5 means "repaint" (white) and below 0.5 means "keep".
 */
public final class Masks {

	private Masks() {}

	/** The mask as a Y-major array of 0/1 (repaint = 1), thresholded at 0.5. */
	public static float[] binary(RandomAccessibleInterval<FloatType> mask) {
		checkMask(mask);
		int w = (int) mask.dimension(0), h = (int) mask.dimension(1);
		float[] out = new float[w * h];
		RandomAccess<FloatType> ra = Views.zeroMin(mask).randomAccess();
		for (int y = 0; y < h; y++) {
			ra.setPosition(y, 1);
			for (int x = 0; x < w; x++) {
				ra.setPosition(x, 0);
				out[y * w + x] = ra.get().get() >= 0.5f ? 1f : 0f;
			}
		}
		return out;
	}

	/**
	 * The mask at latent size (nearest neighbour, as diffusers' inpainting pipeline), thresholded at 0.5: one
	 * [latentHeight × latentWidth] plane of 0/1.
	 */
	public static float[] toLatent(RandomAccessibleInterval<FloatType> mask, int latentWidth, int latentHeight) {
		checkMask(mask);
		int w = (int) mask.dimension(0), h = (int) mask.dimension(1);
		float[] out = new float[latentWidth * latentHeight];
		RandomAccess<FloatType> ra = Views.zeroMin(mask).randomAccess();
		for (int ly = 0; ly < latentHeight; ly++) {
			// nearest: the source pixel under the centre of the latent cell
			int y = Math.min(h - 1, (int) ((ly + 0.5) * h / latentHeight));
			ra.setPosition(y, 1);
			for (int lx = 0; lx < latentWidth; lx++) {
				int x = Math.min(w - 1, (int) ((lx + 0.5) * w / latentWidth));
				ra.setPosition(x, 0);
				out[ly * latentWidth + lx] = ra.get().get() >= 0.5f ? 1f : 0f;
			}
		}
		return out;
	}

	/**
	 * The image with the repaint region blacked out (in [−1, 1] NCHW that is 0, mid grey), as the 9-channel inpainting
	 * UNet was trained: {@code image × (mask < 0.5)} on the [−1, 1] tensor.
	 */
	public static void maskImageTensor(float[] imageNchw, float[] binaryMask, int width, int height) {
		int plane = width * height;
		for (int c = 0; c < 3; c++) {
			for (int i = 0; i < plane; i++) {
				if (binaryMask[i] >= 0.5f) imageNchw[c * plane + i] = 0f;
			}
		}
	}

	/**
	 * Soft paste weights: 0 wherever the mask keeps the original, rising inside the repainted region to 1 at
	 * {@code feather} pixels from its edge. So pixels outside the mask are never touched, and the seam is hidden
	 * inside the repainted area. Returns a Y-major [height × width] array.
	 */
	public static float[] featherInside(float[] binaryMask, int width, int height, int feather) {
		float[] alpha = new float[width * height];
		if (feather <= 0) {
			System.arraycopy(binaryMask, 0, alpha, 0, alpha.length);
			return alpha;
		}
		// Brute-force distance to the nearest kept pixel within the feather radius: (2f+1)² per masked pixel.
		for (int y = 0; y < height; y++) {
			for (int x = 0; x < width; x++) {
				int i = y * width + x;
				if (binaryMask[i] < 0.5f) continue;
				double best = feather + 1;
				for (int dy = -feather; dy <= feather; dy++) {
					int yy = y + dy;
					if (yy < 0 || yy >= height) continue;
					for (int dx = -feather; dx <= feather; dx++) {
						int xx = x + dx;
						if (xx < 0 || xx >= width || binaryMask[yy * width + xx] >= 0.5f) continue;
						double d = Math.sqrt(dx * dx + dy * dy);
						if (d < best) best = d;
					}
				}
				alpha[i] = (float) Math.min(1.0, best / (feather + 1));
			}
		}
		return alpha;
	}

	/**
	 * Pastes the generated image into the original: {@code original·(1 − α) + generated·α} with α from
	 * {@link #featherInside}. Where α = 0 the original value is copied exactly.
	 */
	public static Img<FloatType> paste(RandomAccessibleInterval<FloatType> original, Img<FloatType> generated,
		float[] alpha)
	{
		int w = (int) generated.dimension(0), h = (int) generated.dimension(1);
		Img<FloatType> out = ArrayImgs.floats(w, h, 3);
		RandomAccess<FloatType> o = Views.zeroMin(original).randomAccess();
		RandomAccess<FloatType> g = generated.randomAccess();
		RandomAccess<FloatType> r = out.randomAccess();
		for (int c = 0; c < 3; c++) {
			o.setPosition(c, 2);
			g.setPosition(c, 2);
			r.setPosition(c, 2);
			for (int y = 0; y < h; y++) {
				o.setPosition(y, 1);
				g.setPosition(y, 1);
				r.setPosition(y, 1);
				for (int x = 0; x < w; x++) {
					o.setPosition(x, 0);
					g.setPosition(x, 0);
					r.setPosition(x, 0);
					float a = alpha[y * w + x];
					float ov = o.get().get();
					r.get().set(a <= 0f ? ov : a >= 1f ? g.get().get() : ov * (1 - a) + g.get().get() * a);
				}
			}
		}
		return out;
	}

	static void checkMask(RandomAccessibleInterval<FloatType> mask) {
		if (mask.numDimensions() != 2) {
			throw new StableDiffusionException("The mask must be a single-channel image (X × Y); got "
				+ ImageTensors.dims(mask) + ". Convert it to 8-bit grey first (white = repaint).");
		}
	}
}
