package sc.fiji.sd.control;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.img.basictypeaccess.array.FloatArray;
import net.imglib2.type.numeric.real.FloatType;
import net.imglib2.view.Views;
import sc.fiji.sd.StableDiffusionException;

/**
 * What the preprocessors share: RGB images ⇄ Y-major planes, grey levels, separable blurs. Borders repeat the edge
 * pixel (OpenCV's BORDER_REPLICATE), so a flat image has no edges at its border.
 */
final class ControlMaps {

	private ControlMaps() {}

	/** The three planes (R, G, B) of an X × Y × 3 image, each Y-major (width fastest). */
	static float[][] planes(RandomAccessibleInterval<FloatType> rgb) {
		if (rgb.numDimensions() != 3 || rgb.dimension(2) != 3)
			throw new StableDiffusionException("A control image must be X × Y × 3 (R, G, B), not "
				+ java.util.Arrays.toString(rgb.dimensionsAsLongArray()) + ".");
		int n = (int) (rgb.dimension(0) * rgb.dimension(1));
		float[][] out = new float[3][n];
		var cursor = Views.flatIterable(rgb).cursor(); // x fastest, then y, then the channel
		for (float[] plane : out)
			for (int i = 0; i < n; i++)
				plane[i] = cursor.next().get();
		return out;
	}

	/** An X × Y × 3 image from three Y-major planes. */
	static ArrayImg<FloatType, FloatArray> image(float[] r, float[] g, float[] b, int w, int h) {
		float[] data = new float[3 * w * h];
		System.arraycopy(r, 0, data, 0, w * h);
		System.arraycopy(g, 0, data, w * h, w * h);
		System.arraycopy(b, 0, data, 2 * w * h, w * h);
		return ArrayImgs.floats(data, w, h, 3);
	}

	/** A grey X × Y × 3 image (R = G = B) from one plane. */
	static ArrayImg<FloatType, FloatArray> grey(float[] plane, int w, int h) {
		return image(plane, plane, plane, w, h);
	}

	/** Luma on the 0–255 scale with ITU-R BT.601 weights (OpenCV's RGB → grey, which Canny thresholds assume). */
	static float[] luma255(float[][] rgb) {
		float[] out = new float[rgb[0].length];
		for (int i = 0; i < out.length; i++)
			out[i] = 255f * (0.299f * rgb[0][i] + 0.587f * rgb[1][i] + 0.114f * rgb[2][i]);
		return out;
	}

	/** Separable convolution with a symmetric kernel of odd length (x, then y), edge pixels repeated. */
	static float[] blur(float[] plane, int w, int h, float[] kernel) {
		int r = kernel.length / 2;
		float[] tmp = new float[plane.length], out = new float[plane.length];
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) {
				float s = 0;
				for (int k = -r; k <= r; k++)
					s += kernel[k + r] * plane[y * w + clamp(x + k, w)];
				tmp[y * w + x] = s;
			}
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) {
				float s = 0;
				for (int k = -r; k <= r; k++)
					s += kernel[k + r] * tmp[clamp(y + k, h) * w + x];
				out[y * w + x] = s;
			}
		return out;
	}

	/** A normalised Gaussian kernel of standard deviation sigma; radius 4σ (OpenCV's size for float images). */
	static float[] gaussian(double sigma) {
		int r = Math.max(1, (int) Math.round(4 * sigma));
		float[] k = new float[2 * r + 1];
		double sum = 0;
		for (int i = -r; i <= r; i++)
			sum += k[i + r] = (float) Math.exp(-i * i / (2 * sigma * sigma));
		for (int i = 0; i < k.length; i++)
			k[i] /= sum;
		return k;
	}

	static int clamp(int i, int n) {
		return i < 0 ? 0 : i >= n ? n - 1 : i;
	}
}
