package sc.fiji.sd.image;

import net.imglib2.Cursor;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.img.basictypeaccess.array.FloatArray;
import net.imglib2.type.numeric.real.FloatType;
import net.imglib2.view.Views;

/**
 * Softens the edge of an inpainting mask so that repainted pixels blend into the kept ones.
 * <p>
 * A separable Gaussian blur with σ = feather / 2 (so the ramp is about {@code feather} pixels wide on each side of
 * the edge), edges extended; values stay in [0, 1].
 */
public final class MaskFeather {

	private MaskFeather() {}

	/**
	 * @param mask X × Y, values in [0, 1] (1 = repaint)
	 * @param feather width of the soft edge in pixels; 0 gives an unchanged copy
	 */
	public static ArrayImg<FloatType, FloatArray> feather(RandomAccessibleInterval<FloatType> mask, int feather) {
		if (mask.numDimensions() != 2) throw new IllegalArgumentException("A mask is X × Y");
		if (feather < 0) throw new IllegalArgumentException("feather must not be negative");
		int w = (int) mask.dimension(0), h = (int) mask.dimension(1);
		float[] data = new float[w * h];
		Cursor<FloatType> c = Views.flatIterable(Views.zeroMin(mask)).cursor();
		for (int i = 0; c.hasNext(); i++)
			data[i] = c.next().get();
		if (feather > 0) {
			float[] kernel = gaussian(feather / 2.0);
			data = blur(data, w, h, kernel, true);
			data = blur(data, w, h, kernel, false);
		}
		return ArrayImgs.floats(data, w, h);
	}

	private static float[] gaussian(double sigma) {
		int r = (int) Math.ceil(3 * sigma);
		float[] k = new float[2 * r + 1];
		double sum = 0;
		for (int i = -r; i <= r; i++)
			sum += k[i + r] = (float) Math.exp(-i * i / (2 * sigma * sigma));
		for (int i = 0; i < k.length; i++)
			k[i] /= sum;
		return k;
	}

	private static float[] blur(float[] in, int w, int h, float[] kernel, boolean alongX) {
		float[] out = new float[in.length];
		int r = kernel.length / 2;
		for (int y = 0; y < h; y++) {
			for (int x = 0; x < w; x++) {
				double sum = 0;
				for (int k = -r; k <= r; k++) {
					int sx = alongX ? Math.min(w - 1, Math.max(0, x + k)) : x;
					int sy = alongX ? y : Math.min(h - 1, Math.max(0, y + k));
					sum += kernel[k + r] * in[sy * w + sx];
				}
				out[y * w + x] = (float) Math.min(1, Math.max(0, sum));
			}
		}
		return out;
	}
}
