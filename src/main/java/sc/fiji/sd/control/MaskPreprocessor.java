package sc.fiji.sd.control;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.basictypeaccess.array.FloatArray;
import net.imglib2.type.numeric.real.FloatType;

/**
 * A binary mask or a label image → white objects on black: a pixel is foreground when any channel is not 0, so every
 * label (1, 2, 3…) becomes white and only the background (0) stays black. Front ends hand label images in with their
 * raw values, not through a display range that could map label 1 to black.
 */
final class MaskPreprocessor extends NamedPreprocessor {

	static final String NAME = "mask";

	MaskPreprocessor() {
		super(NAME, "binary or label image → white objects on black (any non-zero value)");
	}

	@Override
	public boolean nearestResize() {
		return true;
	}

	@Override
	public ArrayImg<FloatType, FloatArray> apply(RandomAccessibleInterval<FloatType> rgb, ControlOptions options) {
		int w = (int) rgb.dimension(0), h = (int) rgb.dimension(1);
		float[][] p = ControlMaps.planes(rgb);
		float[] out = new float[w * h];
		for (int i = 0; i < out.length; i++)
			out[i] = foreground(p[0][i]) || foreground(p[1][i]) || foreground(p[2][i]) ? 1 : 0;
		return ControlMaps.grey(out, w, h);
	}

	private static boolean foreground(float v) {
		return v != 0 && !Float.isNaN(v);
	}
}
