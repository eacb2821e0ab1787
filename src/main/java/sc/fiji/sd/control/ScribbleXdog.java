package sc.fiji.sd.control;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.basictypeaccess.array.FloatArray;
import net.imglib2.type.numeric.real.FloatType;

/**
 * A1111's "scribble_xdog": dark strokes of a sketch → white scribbles on black, by a difference of Gaussians. Each
 * channel (0–255) is blurred with σ 0.5 and σ 5; a pixel is a stroke when, in every channel, the wide blur is brighter
 * than the narrow one by more than half the threshold 32 (the extension's default): a thin dark line on a lighter
 * surround. Flat areas, bright lines and wide dark areas give black.
 */
final class ScribbleXdog extends NamedPreprocessor {

	static final String NAME = "scribble_xdog";
	static final float THRESHOLD = 32;
	private static final float[] NARROW = ControlMaps.gaussian(0.5), WIDE = ControlMaps.gaussian(5);

	ScribbleXdog() {
		super(NAME, "dark strokes of a sketch → white scribbles (difference of Gaussians, as A1111's scribble_xdog)");
	}

	@Override
	public ArrayImg<FloatType, FloatArray> apply(RandomAccessibleInterval<FloatType> rgb, ControlOptions options) {
		int w = (int) rgb.dimension(0), h = (int) rgb.dimension(1);
		float[][] p = ControlMaps.planes(rgb);
		float[] smallest = new float[w * h];
		java.util.Arrays.fill(smallest, Float.POSITIVE_INFINITY);
		for (float[] plane : p) {
			float[] v255 = new float[plane.length];
			for (int i = 0; i < plane.length; i++)
				v255[i] = 255 * plane[i];
			float[] narrow = ControlMaps.blur(v255, w, h, NARROW), wide = ControlMaps.blur(v255, w, h, WIDE);
			for (int i = 0; i < smallest.length; i++)
				smallest[i] = Math.min(smallest[i], wide[i] - narrow[i]);
		}
		float[] out = new float[w * h];
		for (int i = 0; i < out.length; i++)
			out[i] = 2 * smallest[i] > THRESHOLD ? 1 : 0;
		return ControlMaps.grey(out, w, h);
	}
}
