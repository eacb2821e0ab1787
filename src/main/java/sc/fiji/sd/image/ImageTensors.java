package sc.fiji.sd.image;

import net.imglib2.Cursor;
import net.imglib2.RandomAccess;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.real.FloatType;
import net.imglib2.view.Views;
import sc.fiji.sd.StableDiffusionException;

/**
 * ImgLib2 RGB images ⇄ the VAE's NCHW tensors.
 * <p>
 * Images are X × Y × 3 (R, G, B) with values in [0, 1]; x grows to the right and y downwards, as in ImageJ. Tensors are
 * flattened [batch, channel, height, width] (row-major: width fastest) with values in [−1, 1]: {@code v·2 − 1} on the
 * way in, {@code clamp((v + 1) / 2, 0, 1)} on the way out.
 */
public final class ImageTensors {

	private ImageTensors() {}

	/** Writes {@code rgb} (X × Y × 3, [0, 1]) as image {@code index} of an NCHW tensor {@code out} in [−1, 1]. */
	public static void toNchw(RandomAccessibleInterval<FloatType> rgb, float[] out, int index) {
		toNchw(rgb, out, index, 2f, -1f);
	}

	/**
	 * A [3, H, W] array in [0, 1] (the values as they are) from an X × Y × 3 image in [0, 1]: what ControlNets take as
	 * their control image (diffusers does not scale it to [−1, 1]).
	 */
	public static float[] toUnitNchw(RandomAccessibleInterval<FloatType> rgb) {
		float[] out = new float[3 * (int) rgb.dimension(0) * (int) rgb.dimension(1)];
		toNchw(rgb, out, 0, 1f, 0f);
		return out;
	}

	/** Image {@code index} of {@code out} as {@code v · scale + offset}, NCHW. */
	private static void toNchw(RandomAccessibleInterval<FloatType> rgb, float[] out, int index, float scale,
		float offset)
	{
		checkRgb(rgb, "image");
		int w = (int) rgb.dimension(0), h = (int) rgb.dimension(1);
		int plane = w * h, base = index * 3 * plane;
		RandomAccess<FloatType> ra = Views.zeroMin(rgb).randomAccess();
		for (int c = 0; c < 3; c++) {
			ra.setPosition(c, 2);
			for (int y = 0; y < h; y++) {
				ra.setPosition(y, 1);
				for (int x = 0; x < w; x++) {
					ra.setPosition(x, 0);
					out[base + c * plane + y * w + x] = ra.get().get() * scale + offset;
				}
			}
		}
	}

	/** A [1, 3, H, W] tensor in [−1, 1] from an X × Y × 3 image in [0, 1]. */
	public static float[] toNchw(RandomAccessibleInterval<FloatType> rgb) {
		float[] out = new float[3 * (int) rgb.dimension(0) * (int) rgb.dimension(1)];
		toNchw(rgb, out, 0);
		return out;
	}

	/** Image {@code index} of an NCHW tensor in about [−1, 1] as a new X × Y × 3 image in [0, 1] (clamped). */
	public static Img<FloatType> fromNchw(float[] tensor, int index, int width, int height) {
		Img<FloatType> img = ArrayImgs.floats(width, height, 3);
		int plane = width * height, base = index * 3 * plane;
		Cursor<FloatType> c = img.localizingCursor(); // ArrayImg iterates x fastest, then y, then channel
		for (int i = 0; c.hasNext(); i++) {
			float v = (tensor[base + i] + 1f) / 2f;
			c.next().set(v < 0f ? 0f : v > 1f ? 1f : Float.isNaN(v) ? 0f : v);
		}
		return img;
	}

	/** An exact copy of {@code rgb} (X × Y × 3) as a new image with its origin at 0. */
	public static Img<FloatType> copy(RandomAccessibleInterval<FloatType> rgb) {
		Img<FloatType> img = ArrayImgs.floats(rgb.dimension(0), rgb.dimension(1), rgb.dimension(2));
		Cursor<FloatType> from = Views.flatIterable(rgb).cursor(), to = Views.flatIterable(img).cursor();
		while (to.hasNext()) to.next().set(from.next());
		return img;
	}

	static void checkRgb(RandomAccessibleInterval<FloatType> rgb, String what) {
		if (rgb.numDimensions() != 3 || rgb.dimension(2) != 3) {
			throw new StableDiffusionException("The " + what + " must be an RGB image (X × Y × 3); got "
				+ dims(rgb) + ". Convert it to RGB first.");
		}
	}

	static String dims(RandomAccessibleInterval<?> rai) {
		StringBuilder sb = new StringBuilder();
		for (int d = 0; d < rai.numDimensions(); d++) sb.append(d == 0 ? "" : " × ").append(rai.dimension(d));
		return sb.toString();
	}
}
