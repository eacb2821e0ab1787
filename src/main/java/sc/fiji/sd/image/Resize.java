package sc.fiji.sd.image;

import net.imglib2.Cursor;
import net.imglib2.RandomAccess;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.img.basictypeaccess.array.FloatArray;
import net.imglib2.type.numeric.real.FloatType;
import net.imglib2.view.Views;

/**
 * Resizing of images and masks to the sizes a model accepts, and back.
 * <p>
 * A model works on multiples of its size step (8 × the UNet's down-sampling); user images come in any size. The front
 * ends resize to the nearest accepted size, generate, and resize the result back to the size the user had.
 */
public final class Resize {

	private Resize() {}

	/** The multiple of {@code step} nearest to {@code size}, at least {@code step}. */
	public static int toMultiple(long size, int step) {
		if (step < 1) throw new IllegalArgumentException("step must be positive");
		long m = Math.round((double) size / step) * step;
		return (int) Math.max(step, m);
	}

	/**
	 * Bilinear resize in X and Y; any further dimensions (such as the 3 colour channels) are kept as they are.
	 * Samples sit at pixel centres, so a resize to the same size is an exact copy and one there and back keeps the
	 * mean.
	 *
	 * @param image X × Y (× C …)
	 */
	public static ArrayImg<FloatType, FloatArray> bilinear(RandomAccessibleInterval<FloatType> image, long width,
		long height) {
		return resize(image, width, height, false);
	}

	/** Nearest-neighbour resize in X and Y (for masks, where a hard edge should stay hard). */
	public static ArrayImg<FloatType, FloatArray> nearest(RandomAccessibleInterval<FloatType> image, long width,
		long height) {
		return resize(image, width, height, true);
	}

	private static ArrayImg<FloatType, FloatArray> resize(RandomAccessibleInterval<FloatType> image, long width,
		long height, boolean nearest) {
		if (width < 1 || height < 1) throw new IllegalArgumentException("size must be positive: " + width + "x" + height);
		RandomAccessibleInterval<FloatType> src = Views.zeroMin(image);
		long[] dims = src.dimensionsAsLongArray();
		long srcW = dims[0], srcH = dims[1];
		long[] outDims = dims.clone();
		outDims[0] = width;
		outDims[1] = height;
		ArrayImg<FloatType, FloatArray> out = ArrayImgs.floats(outDims);
		RandomAccess<FloatType> in = Views.extendBorder(src).randomAccess();
		double sx = (double) srcW / width, sy = (double) srcH / height;
		Cursor<FloatType> c = out.localizingCursor();
		long[] pos = new long[dims.length];
		while (c.hasNext()) {
			c.fwd();
			c.localize(pos);
			double fx = (pos[0] + 0.5) * sx - 0.5, fy = (pos[1] + 0.5) * sy - 0.5;
			if (nearest) {
				pos[0] = Math.min(srcW - 1, (long) Math.floor((pos[0] + 0.5) * sx));
				pos[1] = Math.min(srcH - 1, (long) Math.floor((pos[1] + 0.5) * sy));
				in.setPosition(pos);
				c.get().set(in.get().get());
				continue;
			}
			long x0 = (long) Math.floor(fx), y0 = (long) Math.floor(fy);
			double ax = fx - x0, ay = fy - y0;
			pos[0] = x0;
			pos[1] = y0;
			in.setPosition(pos);
			double v00 = in.get().get();
			in.fwd(0);
			double v10 = in.get().get();
			in.fwd(1);
			double v11 = in.get().get();
			in.bck(0);
			double v01 = in.get().get();
			double top = v00 + ax * (v10 - v00), bottom = v01 + ax * (v11 - v01);
			c.get().set((float) (top + ay * (bottom - top)));
		}
		return out;
	}
}
