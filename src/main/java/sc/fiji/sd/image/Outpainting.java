package sc.fiji.sd.image;

import java.util.Locale;

import net.imglib2.RandomAccess;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.img.basictypeaccess.array.FloatArray;
import net.imglib2.type.numeric.real.FloatType;
import net.imglib2.view.Views;
import sc.fiji.sd.StableDiffusionException;

/**
 * Outpainting is inpainting of a larger canvas: the image is extended by some pixels on chosen sides, and the mask
 * is exactly the new area. The paste (image/Masks) keeps every original pixel, and the feather lies inside the new
 * area only.
 * <p>
 * The new area starts as the nearest edge pixel, repeated outwards (edge replication). The model repaints it anyway
 * at strength 1; edge colours rather than black or noise mean a strength below 1 continues the image's colours, and
 * the 9-channel inpainting models (which see the masked area as mid grey) are not affected either way.
 */
public final class Outpainting {

	private Outpainting() {}

	/** Pixels added on each side (0 or more; at least one side more than 0). */
	public record Sides(int left, int right, int top, int bottom) {

		/** Checks the sides; the message says what to change. */
		public Sides {
			if (left < 0 || right < 0 || top < 0 || bottom < 0)
				throw new StableDiffusionException("Outpaint sides must be 0 or more pixels, not left " + left
					+ ", right " + right + ", top " + top + ", bottom " + bottom + ".");
			if (left + right + top + bottom == 0)
				throw new StableDiffusionException("Outpaint needs at least one side to extend: give left, right, top "
					+ "or bottom a number of pixels (e.g. right=32).");
		}

		/** The A1111-style parameters entry, quoted because its value has commas (A1111 quotes such values). */
		public String parametersEntry() {
			return String.format(Locale.ROOT, "Outpaint: \"left %d, right %d, top %d, bottom %d\"", left, right, top,
				bottom);
		}
	}

	/** The A1111 parameters text with the outpaint entry added to its last (settings) line. */
	public static String parameters(String parameters, Sides sides) {
		return parameters + ", " + sides.parametersEntry();
	}

	/** The extended canvas of an X × Y × 3 image; the new area repeats the nearest edge pixel. */
	public static ArrayImg<FloatType, FloatArray> extend(RandomAccessibleInterval<FloatType> rgb, Sides s) {
		int w = (int) rgb.dimension(0), h = (int) rgb.dimension(1);
		int cw = w + s.left() + s.right(), ch = h + s.top() + s.bottom();
		float[] out = new float[3 * cw * ch];
		RandomAccess<FloatType> ra = Views.zeroMin(rgb).randomAccess();
		for (int c = 0; c < 3; c++) {
			ra.setPosition(c, 2);
			for (int y = 0; y < ch; y++) {
				ra.setPosition(clamp(y - s.top(), h), 1);
				for (int x = 0; x < cw; x++) {
					ra.setPosition(clamp(x - s.left(), w), 0);
					out[(c * ch + y) * cw + x] = ra.get().get();
				}
			}
		}
		return ArrayImgs.floats(out, cw, ch, 3);
	}

	/** The mask of the canvas for an image of {@code width × height}: 1 (repaint) in the new area, 0 over the image. */
	public static ArrayImg<FloatType, FloatArray> mask(int width, int height, Sides s) {
		int cw = width + s.left() + s.right(), ch = height + s.top() + s.bottom();
		float[] mask = new float[cw * ch];
		for (int y = 0; y < ch; y++)
			for (int x = 0; x < cw; x++) {
				boolean original = x >= s.left() && x < s.left() + width && y >= s.top() && y < s.top() + height;
				mask[y * cw + x] = original ? 0f : 1f;
			}
		return ArrayImgs.floats(mask, cw, ch);
	}

	/** The nearest index in [0, size). */
	public static int clamp(int i, int size) {
		return Math.max(0, Math.min(size - 1, i));
	}
}
