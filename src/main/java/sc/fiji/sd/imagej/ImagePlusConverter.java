package sc.fiji.sd.imagej;

import java.awt.Rectangle;
import java.awt.image.IndexColorModel;
import java.util.ArrayList;
import java.util.List;

import ij.CompositeImage;
import ij.ImagePlus;
import ij.ImageStack;
import ij.gui.Roi;
import ij.process.ColorProcessor;
import ij.process.ImageProcessor;
import ij.process.LUT;
import net.imglib2.Cursor;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.img.basictypeaccess.array.FloatArray;
import net.imglib2.type.numeric.real.FloatType;
import net.imglib2.view.Views;
import sc.fiji.sd.StableDiffusionException;

/**
 * Converts between ImageJ 1 images and the RGB ImgLib2 images the core works on (X × Y × 3, R G B, values in [0, 1]).
 * <p>
 * The rule is "what you see is what the model gets":
 * <ul>
 * <li>8-, 16- and 32-bit images are mapped through their display range (min → 0, max → 1, clipped) and coloured with
 * their LUT (a grey LUT gives R = G = B; an inverted LUT is honoured).</li>
 * <li>RGB images are split into their channels (÷ 255).</li>
 * <li>Composite (multi-channel) images in composite mode merge their active channels, each through its own display
 * range and LUT colour, added and clipped as ImageJ draws them; in colour or greyscale mode the displayed channel is
 * used.</li>
 * <li>Stacks and hyperstacks: one image per (slice, frame) position; {@link #positions} lists them.</li>
 * </ul>
 * Reading never modifies the ImagePlus (no processor is reset, no ROI is touched).
 */
public final class ImagePlusConverter {

	private ImagePlusConverter() {}

	/** A (slice, frame) position of a (hyper)stack, 1-based as ImageJ counts. */
	public record Position(int slice, int frame) {}

	/** The position the user is looking at. */
	public static Position currentPosition(ImagePlus imp) {
		// From the stack index: ImagePlus.getSlice() lags behind setSlice() when there is no window.
		int[] czt = imp.convertIndexToPosition(imp.getCurrentSlice());
		return new Position(czt[1], czt[2]);
	}

	/** Every (slice, frame) position, slices fastest (channels are merged, not positions). */
	public static List<Position> positions(ImagePlus imp) {
		List<Position> all = new ArrayList<>();
		for (int t = 1; t <= imp.getNFrames(); t++)
			for (int z = 1; z <= imp.getNSlices(); z++)
				all.add(new Position(z, t));
		return all;
	}

	/** The displayed image at the current position as RGB in [0, 1]. */
	public static ArrayImg<FloatType, FloatArray> toRgb(ImagePlus imp) {
		return toRgb(imp, currentPosition(imp));
	}

	/** The image at one (slice, frame) position as RGB in [0, 1], channels merged as displayed. */
	public static ArrayImg<FloatType, FloatArray> toRgb(ImagePlus imp, Position p) {
		int w = imp.getWidth(), h = imp.getHeight(), n = w * h;
		float[] rgb = new float[3 * n];
		ImageStack stack = imp.getStack();
		if (imp.getType() == ImagePlus.COLOR_RGB) {
			int[] pixels = (int[]) stack.getProcessor(imp.getStackIndex(1, p.slice(), p.frame())).getPixels();
			for (int i = 0; i < n; i++) {
				rgb[i] = ((pixels[i] >> 16) & 0xff) / 255f;
				rgb[n + i] = ((pixels[i] >> 8) & 0xff) / 255f;
				rgb[2 * n + i] = (pixels[i] & 0xff) / 255f;
			}
		} else if (imp.isComposite() && ((CompositeImage) imp).getMode() == CompositeImage.COMPOSITE) {
			CompositeImage ci = (CompositeImage) imp;
			boolean[] active = ci.getActiveChannels();
			for (int c = 1; c <= imp.getNChannels(); c++) {
				if (c - 1 < active.length && !active[c - 1]) continue;
				LUT lut = ci.getChannelLut(c);
				ImageProcessor ip = stack.getProcessor(imp.getStackIndex(c, p.slice(), p.frame()));
				addThroughLut(ip, lut.min, lut.max, lut, rgb, n);
			}
			for (int i = 0; i < rgb.length; i++)
				rgb[i] = Math.min(1f, rgb[i]);
		} else {
			// Greyscale image, or a composite in colour/greyscale mode: the displayed channel with its LUT.
			int channel = imp.isComposite() ? imp.convertIndexToPosition(imp.getCurrentSlice())[0] : 1;
			ImageProcessor ip = stack.getProcessor(imp.getStackIndex(channel, p.slice(), p.frame()));
			double min, max;
			IndexColorModel lut;
			if (imp.isComposite()) {
				LUT l = ((CompositeImage) imp).getChannelLut(channel);
				min = l.min;
				max = l.max;
				lut = ((CompositeImage) imp).getMode() == CompositeImage.GRAYSCALE ? null : l;
			} else {
				// The display range lives on the current processor; stack slices share it.
				ImageProcessor shown = imp.getProcessor();
				min = shown.getMin();
				max = shown.getMax();
				lut = shown.isDefaultLut() ? null : (IndexColorModel) shown.getColorModel();
				if (imp.isInvertedLut() && lut == null) lut = (IndexColorModel) shown.getColorModel();
			}
			addThroughLut(ip, min, max, lut, rgb, n);
		}
		return ArrayImgs.floats(rgb, w, h, 3);
	}

	/** Maps each pixel through [min, max] to [0, 1], colours it with the LUT (grey when null) and adds it to rgb. */
	private static void addThroughLut(ImageProcessor ip, double min, double max, IndexColorModel lut, float[] rgb,
		int n) {
		double range = max > min ? max - min : 1;
		byte[] r = null, g = null, b = null;
		if (lut != null) {
			r = new byte[256];
			g = new byte[256];
			b = new byte[256];
			lut.getReds(r);
			lut.getGreens(g);
			lut.getBlues(b);
		}
		for (int i = 0; i < n; i++) {
			double t = (ip.getf(i) - min) / range;
			float v = (float) Math.min(1, Math.max(0, t));
			if (lut == null) {
				rgb[i] += v;
				rgb[n + i] += v;
				rgb[2 * n + i] += v;
			} else {
				int index = Math.round(v * 255);
				rgb[i] += (r[index] & 0xff) / 255f;
				rgb[n + i] += (g[index] & 0xff) / 255f;
				rgb[2 * n + i] += (b[index] & 0xff) / 255f;
			}
		}
	}

	/** An RGB ImagePlus (a stack when there are several images) from X × Y × 3 images in [0, 1]; all the same size. */
	public static ImagePlus toImagePlus(String title, List<? extends RandomAccessibleInterval<FloatType>> images) {
		if (images.isEmpty()) throw new IllegalArgumentException("no images");
		int w = (int) images.get(0).dimension(0), h = (int) images.get(0).dimension(1);
		ImageStack stack = new ImageStack(w, h);
		for (RandomAccessibleInterval<FloatType> image : images) {
			if (image.numDimensions() != 3 || image.dimension(2) != 3 || image.dimension(0) != w
				|| image.dimension(1) != h)
				throw new IllegalArgumentException("Expected X×Y×3 images of " + w + "×" + h);
			stack.addSlice(toColorProcessor(image));
		}
		return new ImagePlus(title, stack);
	}

	/** One X × Y × 3 image in [0, 1] as an ImageJ RGB processor (rounded, clipped to 0…255). */
	public static ColorProcessor toColorProcessor(RandomAccessibleInterval<FloatType> image) {
		int w = (int) image.dimension(0), h = (int) image.dimension(1), n = w * h;
		int[] pixels = new int[n];
		Cursor<FloatType> c = Views.flatIterable(Views.zeroMin(image)).cursor();
		for (int channel = 0; channel < 3; channel++) {
			int shift = 16 - 8 * channel;
			for (int i = 0; i < n; i++) {
				int v = Math.round(Math.min(1f, Math.max(0f, c.next().get())) * 255);
				pixels[i] |= v << shift;
			}
		}
		for (int i = 0; i < n; i++)
			pixels[i] |= 0xff000000;
		return new ColorProcessor(w, h, pixels);
	}

	/**
	 * The inpainting mask from the image's selection: X × Y, 1 inside the area, 0 outside.
	 *
	 * @throws StableDiffusionException when there is no area selection
	 */
	public static ArrayImg<FloatType, FloatArray> roiMask(ImagePlus imp) {
		Roi roi = imp.getRoi();
		if (roi == null)
			throw new StableDiffusionException("Inpaint needs a selection on \"" + imp.getTitle()
				+ "\" that marks the region to repaint. Draw one (rectangle, oval, polygon or freehand) and run Inpaint again.");
		if (!roi.isArea())
			throw new StableDiffusionException("Inpaint needs an area selection (rectangle, oval, polygon or freehand); "
				+ "the selection on \"" + imp.getTitle() + "\" is a " + roi.getTypeAsString().toLowerCase()
				+ ". Draw an area around the region to repaint.");
		int w = imp.getWidth(), h = imp.getHeight();
		float[] mask = new float[w * h];
		Rectangle bounds = roi.getBounds();
		ImageProcessor roiMask = roi.getMask(); // null for a plain rectangle
		for (int y = Math.max(0, bounds.y); y < Math.min(h, bounds.y + bounds.height); y++) {
			for (int x = Math.max(0, bounds.x); x < Math.min(w, bounds.x + bounds.width); x++) {
				boolean inside = roiMask == null || roiMask.get(x - bounds.x, y - bounds.y) != 0;
				if (inside) mask[y * w + x] = 1;
			}
		}
		return ArrayImgs.floats(mask, w, h);
	}
}
