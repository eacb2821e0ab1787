package sc.fiji.sd.quality;

import java.util.Random;

import net.imglib2.RandomAccess;
import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.real.FloatType;

/**
 * Draws images like the embedded model's training data ({@code tools/model/dataset.py}): one axis-aligned circle,
 * square or upright triangle (base = height) on a plain background, anti-aliased by 4× supersampling.
 */
final class ShapeImages {

	static final int SUPERSAMPLE = 4;

	private ShapeImages() {}

	/** X × Y × 3 in [0, 1]; centre and size in pixels of the final image. */
	static Img<FloatType> render(int[] color, String shape, int[] background, double cx, double cy, double size, int imageSize) {
		Img<FloatType> img = ArrayImgs.floats(imageSize, imageSize, 3);
		RandomAccess<FloatType> ra = img.randomAccess();
		double half = size / 2;
		for (int y = 0; y < imageSize; y++) {
			for (int x = 0; x < imageSize; x++) {
				int covered = 0;
				for (int sy = 0; sy < SUPERSAMPLE; sy++) {
					for (int sx = 0; sx < SUPERSAMPLE; sx++) {
						double px = x + (sx + 0.5) / SUPERSAMPLE, py = y + (sy + 0.5) / SUPERSAMPLE;
						if (inside(shape, px - cx, py - cy, half)) covered++;
					}
				}
				double a = covered / (double) (SUPERSAMPLE * SUPERSAMPLE);
				for (int c = 0; c < 3; c++) {
					ra.setPositionAndGet(x, y, c).set((float) ((a * color[c] + (1 - a) * background[c]) / 255.0));
				}
			}
		}
		return img;
	}

	/** Random centre and size as the data set draws them: size 37.5–68.75 % of the image, 1/16 margin. */
	static double[] randomLayout(Random rng, int imageSize) {
		double size = (0.375 + rng.nextDouble() * (0.6875 - 0.375)) * imageSize;
		double margin = imageSize / 16.0, lo = margin + size / 2, hi = imageSize - margin - size / 2;
		return new double[] { lo + rng.nextDouble() * (hi - lo), lo + rng.nextDouble() * (hi - lo), size };
	}

	private static boolean inside(String shape, double dx, double dy, double h) {
		switch (shape) {
			case "square": return Math.abs(dx) <= h && Math.abs(dy) <= h;
			case "circle": return dx * dx + dy * dy <= h * h;
			case "ring": // a disc with a concentric hole of half its diameter (tools/model/adapt_common.py)
				return dx * dx + dy * dy <= h * h && dx * dx + dy * dy > h * h / 4;
			case "triangle": // apex at (0, −h), base from (−h, h) to (h, h)
				return dy <= h && dy >= -h && Math.abs(dx) <= (dy + h) / 2;
			default: throw new IllegalArgumentException("unknown shape " + shape);
		}
	}
}
