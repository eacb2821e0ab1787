package sc.fiji.sd.imagej;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Rectangle;
import java.util.List;

import org.junit.jupiter.api.Test;

import ij.CompositeImage;
import ij.ImagePlus;
import ij.ImageStack;
import ij.gui.Line;
import ij.gui.OvalRoi;
import ij.gui.Roi;
import ij.process.ByteProcessor;
import ij.process.ColorProcessor;
import ij.process.FloatProcessor;
import ij.process.LUT;
import ij.process.ShortProcessor;
import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.img.basictypeaccess.array.FloatArray;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.StableDiffusionException;

/** ImageJ 1 images → RGB [0, 1] X×Y×3 and back: types, display ranges, LUTs, channel order, stacks, ROI masks. */
class ImagePlusConverterTest {

	private static void assertRgb(ArrayImg<FloatType, FloatArray> rgb, int x, int y, double r, double g, double b) {
		assertEquals(r, rgb.getAt(x, y, 0).get(), 1e-6, "red at " + x + "," + y);
		assertEquals(g, rgb.getAt(x, y, 1).get(), 1e-6, "green at " + x + "," + y);
		assertEquals(b, rgb.getAt(x, y, 2).get(), 1e-6, "blue at " + x + "," + y);
	}

	@Test
	void eightBitIsMappedThroughTheDisplayRangeToGrey() {
		ByteProcessor bp = new ByteProcessor(4, 2);
		bp.set(0, 0, 0);
		bp.set(1, 0, 100);
		bp.set(2, 0, 200);
		bp.set(3, 1, 255);
		ImagePlus imp = new ImagePlus("8-bit", bp);
		var full = ImagePlusConverter.toRgb(imp);
		assertArrayEquals(new long[] { 4, 2, 3 }, full.dimensionsAsLongArray());
		assertRgb(full, 0, 0, 0, 0, 0);
		assertRgb(full, 3, 1, 1, 1, 1);
		imp.setDisplayRange(50, 150);
		var ranged = ImagePlusConverter.toRgb(imp);
		assertRgb(ranged, 1, 0, 0.5, 0.5, 0.5);
		assertRgb(ranged, 2, 0, 1, 1, 1); // above the range: clipped
		assertRgb(ranged, 0, 0, 0, 0, 0);
	}

	@Test
	void sixteenAndThirtyTwoBitUseTheirDisplayRange() {
		ShortProcessor sp = new ShortProcessor(2, 1);
		sp.set(0, 0, 2000);
		sp.set(1, 0, 3000);
		ImagePlus shorts = new ImagePlus("16-bit", sp);
		shorts.setDisplayRange(1000, 3000);
		var s = ImagePlusConverter.toRgb(shorts);
		assertRgb(s, 0, 0, 0.5, 0.5, 0.5);
		assertRgb(s, 1, 0, 1, 1, 1);

		FloatProcessor fp = new FloatProcessor(2, 1, new float[] { 0f, -0.5f });
		ImagePlus floats = new ImagePlus("32-bit", fp);
		floats.setDisplayRange(-1, 1);
		var f = ImagePlusConverter.toRgb(floats);
		assertRgb(f, 0, 0, 0.5, 0.5, 0.5);
		assertRgb(f, 1, 0, 0.25, 0.25, 0.25);
	}

	@Test
	void colourLutsAndInvertedLutsAreHonoured() {
		ByteProcessor bp = new ByteProcessor(1, 1);
		bp.set(0, 0, 255);
		bp.setLut(LUT.createLutFromColor(Color.GREEN));
		assertRgb(ImagePlusConverter.toRgb(new ImagePlus("green", bp)), 0, 0, 0, 1, 0);

		ByteProcessor inv = new ByteProcessor(1, 1);
		inv.invertLut();
		assertRgb(ImagePlusConverter.toRgb(new ImagePlus("inverted", inv)), 0, 0, 1, 1, 1);
	}

	@Test
	void rgbChannelsComeOutInRGBOrderAtTheirXYPosition() {
		ColorProcessor cp = new ColorProcessor(3, 2);
		cp.set(2, 1, 0xff8000); // orange at x = 2, y = 1
		cp.set(0, 1, 0x0000ff);
		var rgb = ImagePlusConverter.toRgb(new ImagePlus("rgb", cp));
		assertRgb(rgb, 2, 1, 1, 128 / 255.0, 0);
		assertRgb(rgb, 0, 1, 0, 0, 1);
		assertRgb(rgb, 1, 0, 0, 0, 0);
	}

	private static CompositeImage twoChannels() {
		ImageStack stack = new ImageStack(1, 1);
		ByteProcessor c1 = new ByteProcessor(1, 1), c2 = new ByteProcessor(1, 1);
		c1.set(0, 0, 255);
		c2.set(0, 0, 255);
		stack.addSlice(c1);
		stack.addSlice(c2);
		ImagePlus imp = new ImagePlus("channels", stack);
		imp.setDimensions(2, 1, 1);
		CompositeImage ci = new CompositeImage(imp, CompositeImage.COMPOSITE);
		ci.setChannelLut(LUT.createLutFromColor(Color.RED), 1);
		ci.setChannelLut(LUT.createLutFromColor(Color.GREEN), 2);
		return ci;
	}

	@Test
	void compositeMergesTheActiveChannelsWithTheirLutColours() {
		CompositeImage ci = twoChannels();
		assertRgb(ImagePlusConverter.toRgb(ci), 0, 0, 1, 1, 0); // red + green
		ci.setActiveChannels("10");
		assertRgb(ImagePlusConverter.toRgb(ci), 0, 0, 1, 0, 0);
		ci.setMode(CompositeImage.GRAYSCALE);
		ci.setC(2);
		assertRgb(ImagePlusConverter.toRgb(ci), 0, 0, 1, 1, 1); // the displayed channel, grey
	}

	@Test
	void stacksGiveOneImagePerPositionAndTheCurrentSliceByDefault() {
		ImageStack stack = new ImageStack(2, 2);
		for (int i = 1; i <= 3; i++) {
			ByteProcessor bp = new ByteProcessor(2, 2);
			bp.setColor(i * 80);
			bp.fill();
			stack.addSlice(bp);
		}
		ImagePlus imp = new ImagePlus("stack", stack);
		imp.setSlice(2);
		assertEquals(3, ImagePlusConverter.positions(imp).size());
		assertRgb(ImagePlusConverter.toRgb(imp), 1, 1, 160 / 255.0, 160 / 255.0, 160 / 255.0);
		assertRgb(ImagePlusConverter.toRgb(imp, ImagePlusConverter.positions(imp).get(2)), 0, 0, 240 / 255.0,
			240 / 255.0, 240 / 255.0);
	}

	@Test
	void backToAnRgbImagePlusAndAStackForABatch() {
		float[] data = new float[3 * 2 * 3];
		data[0] = 1f; // red at (0, 0)
		data[6 + 5] = 0.5f; // green at (2, 1)
		data[12 + 1] = 2f; // blue at (1, 0): out of range, clipped
		var img = ArrayImgs.floats(data, 3, 2, 3);
		ImagePlus imp = ImagePlusConverter.toImagePlus("out", List.of(img, img));
		assertEquals(ImagePlus.COLOR_RGB, imp.getType());
		assertEquals(2, imp.getStackSize());
		ColorProcessor cp = (ColorProcessor) imp.getProcessor();
		assertEquals(0xff0000, cp.get(0, 0) & 0xffffff);
		assertEquals(128 << 8, cp.get(2, 1) & 0xffffff);
		assertEquals(0xff, cp.get(1, 0) & 0xffffff);
		var back = ImagePlusConverter.toRgb(imp);
		assertRgb(back, 2, 1, 0, 128 / 255.0, 0);
	}

	@Test
	void anAreaSelectionBecomesAMaskOfOnesInside() {
		ImagePlus imp = new ImagePlus("roi", new ByteProcessor(20, 10));
		imp.setRoi(new Roi(2, 3, 5, 4));
		var rect = ImagePlusConverter.roiMask(imp);
		assertArrayEquals(new long[] { 20, 10 }, rect.dimensionsAsLongArray());
		assertEquals(20, sum(rect));
		assertEquals(1f, rect.getAt(2, 3).get());
		assertEquals(0f, rect.getAt(7, 3).get());

		imp.setRoi(new OvalRoi(0, 0, 10, 10));
		double oval = sum(ImagePlusConverter.roiMask(imp));
		assertEquals(Math.PI * 25, oval, 8);
	}

	@Test
	void noSelectionOrALineIsAClearError() {
		ImagePlus imp = new ImagePlus("no roi", new ByteProcessor(8, 8));
		var none = assertThrows(StableDiffusionException.class, () -> ImagePlusConverter.roiMask(imp));
		assertTrue(none.getMessage().contains("selection"), none.getMessage());
		imp.setRoi(new Line(0, 0, 5, 5));
		var line = assertThrows(StableDiffusionException.class, () -> ImagePlusConverter.roiMask(imp));
		assertTrue(line.getMessage().contains("area selection"), line.getMessage());
	}

	@Test
	void readingNeverModifiesTheImageOrItsSelection() {
		ShortProcessor sp = new ShortProcessor(6, 5);
		for (int i = 0; i < 30; i++)
			sp.set(i, i * 100);
		ImagePlus imp = new ImagePlus("input", sp);
		imp.setDisplayRange(100, 2000);
		Roi roi = new OvalRoi(1, 1, 3, 3);
		imp.setRoi(roi);
		short[] before = ((short[]) sp.getPixels()).clone();
		ImagePlusConverter.toRgb(imp);
		ImagePlusConverter.roiMask(imp);
		assertArrayEquals(before, (short[]) imp.getProcessor().getPixels());
		assertEquals(new Rectangle(1, 1, 3, 3), imp.getRoi().getBounds());
		assertEquals(100, imp.getDisplayRangeMin());
		assertEquals(2000, imp.getDisplayRangeMax());
		assertNull(imp.getProperty("Info"));
	}

	private static double sum(ArrayImg<FloatType, FloatArray> img) {
		double s = 0;
		for (float v : img.update(null).getCurrentStorageArray())
			s += v;
		return s;
	}
}
