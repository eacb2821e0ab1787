package sc.fiji.sd.control;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.basictypeaccess.array.FloatArray;
import net.imglib2.type.numeric.real.FloatType;

/** The image as it is: for control images made elsewhere (Find Edges, a drawn mask, another tool's output). */
final class NoPreprocessor extends NamedPreprocessor {

	static final String NAME = "none";

	NoPreprocessor() {
		super(NAME, "the image as it is");
	}

	@Override
	public ArrayImg<FloatType, FloatArray> apply(RandomAccessibleInterval<FloatType> rgb, ControlOptions options) {
		float[][] p = ControlMaps.planes(rgb);
		return ControlMaps.image(p[0], p[1], p[2], (int) rgb.dimension(0), (int) rgb.dimension(1));
	}
}
