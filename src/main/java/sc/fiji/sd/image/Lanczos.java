package sc.fiji.sd.image;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;

/**
 * Lanczos-3 resize of an RGB image in [0, 1] (X × Y × 3), separable, pixel centres aligned, the kernel widened when
 * shrinking (as PIL's {@code LANCZOS}, which AUTOMATIC1111's "Lanczos" upscaler uses); the result is clamped to
 * [0, 1] because the kernel's negative lobes overshoot at sharp edges.
 */
public final class Lanczos {

	private static final int LOBES = 3;

	private Lanczos() {}

	public static Img<FloatType> resize(RandomAccessibleInterval<FloatType> rgb, int width, int height) {
		if (width < 1 || height < 1) throw new IllegalArgumentException("size must be positive: " + width + "x" + height);
		int w = (int) rgb.dimension(0), h = (int) rgb.dimension(1), channels = (int) rgb.dimension(2);
		float[] src = ImageTensors.toNchw(rgb); // [C, H, W] in [-1, 1]: linear, so the mapping does not matter
		float[] rows = new float[channels * h * width];
		for (int c = 0; c < channels; c++) {
			for (int y = 0; y < h; y++) pass(src, (c * h + y) * w, 1, w, rows, (c * h + y) * width, 1, width);
		}
		float[] out = new float[channels * height * width];
		for (int c = 0; c < channels; c++) {
			for (int x = 0; x < width; x++) pass(rows, c * h * width + x, width, h, out, c * height * width + x, width, height);
		}
		return ImageTensors.fromNchw(out, 0, width, height); // clamps to [0, 1]
	}

	/** One line: {@code n} samples at {@code from + k·stride} resampled to {@code m} at {@code to + k·outStride}. */
	private static void pass(float[] in, int from, int stride, int n, float[] out, int to, int outStride, int m) {
		double scale = (double) n / m, support = LOBES * Math.max(1, scale), widen = Math.max(1, scale);
		for (int k = 0; k < m; k++) {
			double centre = (k + 0.5) * scale;
			int lo = (int) Math.max(0, Math.floor(centre - support)), hi = (int) Math.min(n, Math.ceil(centre + support));
			double sum = 0, weights = 0;
			for (int j = lo; j < hi; j++) {
				double wgt = kernel((j + 0.5 - centre) / widen);
				sum += wgt * in[from + j * stride];
				weights += wgt;
			}
			out[to + k * outStride] = (float) (weights == 0 ? 0 : sum / weights);
		}
	}

	static double kernel(double x) {
		if (x == 0) return 1;
		if (Math.abs(x) >= LOBES) return 0;
		double px = Math.PI * x;
		return LOBES * Math.sin(px) * Math.sin(px / LOBES) / (px * px);
	}
}
