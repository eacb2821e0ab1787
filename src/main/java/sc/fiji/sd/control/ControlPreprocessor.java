package sc.fiji.sd.control;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.basictypeaccess.array.FloatArray;
import net.imglib2.type.numeric.real.FloatType;

/**
 * Turns an image into the control image a ControlNet reads: the structure it should follow (edges, a mask, strokes)
 * as white on black.
 * <p>
 * Images follow the request's convention: X × Y × 3 (R, G, B), values in [0, 1]. The input is never modified; the
 * output is a new image of the same size.
 */
public interface ControlPreprocessor {

	/** The name users type ({@code control_type}, {@code --control-type}) and provenance shows (A1111's module). */
	String name();

	/** One line for dialogs and help texts. */
	String description();

	/**
	 * True when the input holds labels or hard masks, which must be resized by nearest neighbour (a blend of labels
	 * 3 and 0 is not a label); false when it is a picture (bilinear).
	 */
	default boolean nearestResize() {
		return false;
	}

	ArrayImg<FloatType, FloatArray> apply(RandomAccessibleInterval<FloatType> rgb, ControlOptions options);
}
