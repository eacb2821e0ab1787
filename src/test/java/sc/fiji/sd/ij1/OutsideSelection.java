package sc.fiji.sd.ij1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import ij.ImagePlus;
import ij.gui.Roi;
import ij.process.ByteProcessor;
import ij.process.ColorProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import ij.process.ShortProcessor;
import sc.fiji.sd.imagej.ImagePlusConverter;

/**
 * Inputs for the "pixels outside the selection stay exactly as they were" checks, shared by the ImageJ 1.x and Fiji
 * tests: each image type, at a size that is a multiple of the size step and one that is not, with a rectangle.
 */
public final class OutsideSelection {

	private OutsideSelection() {}

	/** 8-, 16-, 32-bit and RGB images of size × size with a textured ramp (so a blur or resize would show) and a selection. */
	public static List<ImagePlus> inputs(int size) {
		ImageProcessor[] ips = { new ByteProcessor(size, size), new ShortProcessor(size, size),
			new FloatProcessor(size, size), new ColorProcessor(size, size) };
		String[] names = { "8-bit", "16-bit", "32-bit", "RGB" };
		List<ImagePlus> images = new java.util.ArrayList<>();
		for (int t = 0; t < ips.length; t++) {
			ImageProcessor ip = ips[t];
			for (int y = 0; y < size; y++)
				for (int x = 0; x < size; x++) {
					int v = (x * 7 + y * 3 + (x * y) % 11) % 256;
					if (ip instanceof ColorProcessor) ip.set(x, y, (v << 16) | ((255 - v) << 8) | ((v * 5) % 256));
					else if (ip instanceof ShortProcessor) ip.set(x, y, 1000 + 37 * v);
					else if (ip instanceof FloatProcessor) ip.setf(x, y, -1.5f + v / 97f);
					else ip.set(x, y, v);
				}
			ip.resetMinAndMax();
			ImagePlus imp = new ImagePlus(names[t] + " " + size, ip);
			imp.setRoi(new Roi(20, 17, 30, 24));
			images.add(imp);
		}
		return images;
	}

	/** The input as the model saw it (its displayed RGB, 8 bits per channel): what must come back outside. */
	public static int[] displayed(ImagePlus input) {
		return (int[]) ImagePlusConverter.toColorProcessor(ImagePlusConverter.toRgb(input)).getPixels();
	}

	/**
	 * Checks the result has the input's type and every pixel outside the input's selection is exactly the input's
	 * value (raw 8-, 16-bit or float values, bit for bit), and that the inside changed.
	 */
	public static void assertOnlyTheSelectionChangedInTheInputsType(ImagePlus input, ImagePlus result) {
		assertEquals(input.getBitDepth(), result.getBitDepth(), input.getTitle() + ": the input's type");
		assertEquals(input.getWidth(), result.getWidth());
		assertEquals(input.getHeight(), result.getHeight());
		ImageProcessor before = input.getProcessor(), after = result.getProcessor();
		Roi roi = input.getRoi();
		int w = input.getWidth(), changedOutside = 0, changedInside = 0;
		for (int i = 0; i < w * input.getHeight(); i++) {
			boolean inside = roi.contains(i % w, i / w);
			boolean same = Float.floatToRawIntBits(before.getf(i)) == Float.floatToRawIntBits(after.getf(i));
			if (!inside && !same) changedOutside++;
			if (inside && !same) changedInside++;
		}
		assertEquals(0, changedOutside, input.getTitle() + ": pixels outside the selection changed");
		assertTrue(changedInside > 0, input.getTitle() + ": nothing was repainted inside the selection");
	}

	/**
	 * Checks every pixel outside the input's selection is exactly the displayed input, and that the inside changed
	 * (so the check is not passing on an untouched image).
	 */
	public static void assertOnlyTheSelectionChanged(ImagePlus input, int[] before, ImagePlus result) {
		assertEquals(input.getWidth(), result.getWidth());
		assertEquals(input.getHeight(), result.getHeight());
		int[] after = (int[]) result.getProcessor().getPixels();
		Roi roi = input.getRoi();
		int w = input.getWidth(), changedOutside = 0, changedInside = 0;
		for (int i = 0; i < after.length; i++) {
			boolean inside = roi.contains(i % w, i / w);
			boolean same = (after[i] & 0xffffff) == (before[i] & 0xffffff);
			if (!inside && !same) changedOutside++;
			if (inside && !same) changedInside++;
		}
		assertEquals(0, changedOutside, input.getTitle() + ": pixels outside the selection changed");
		assertTrue(changedInside > 0, input.getTitle() + ": nothing was repainted inside the selection");
	}
}
