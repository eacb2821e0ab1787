package sc.fiji.sd.control;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.basictypeaccess.array.FloatArray;
import net.imglib2.type.numeric.real.FloatType;

/** 1 − v in each channel: black lines on white (a drawing, a scan) become the white-on-black lines ControlNets read. */
final class Invert extends NamedPreprocessor {

	static final String NAME = "invert";

	Invert() {
		super(NAME, "1 − value (black lines on white → white on black)");
	}

	@Override
	public ArrayImg<FloatType, FloatArray> apply(RandomAccessibleInterval<FloatType> rgb, ControlOptions options) {
		int w = (int) rgb.dimension(0), h = (int) rgb.dimension(1);
		float[][] p = ControlMaps.planes(rgb);
		for (float[] plane : p)
			for (int i = 0; i < plane.length; i++)
				plane[i] = 1 - plane[i];
		return ControlMaps.image(p[0], p[1], p[2], w, h);
	}
}
