package sc.fiji.sd.imagej;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import ij.CompositeImage;
import ij.ImagePlus;
import ij.ImageStack;
import ij.gui.Roi;
import ij.measure.Calibration;
import ij.process.ByteProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import ij.process.LUT;
import ij.process.ShortProcessor;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/**
 * Grey levels with a fake pipeline that paints one grey level per seed (g = seed % 256 / 255): results in the
 * input's type, through its display range both ways, with its calibration, LUT and display range; RGB on request;
 * composite images channel by channel.
 */
class GreyLevelsTest {

	private final FakeGenerator fake = new FakeGenerator();
	private final Generation generation = new Generation(fake);

	/** A 48×32 image (a size the fake takes as it is) of the given processor, a ramp, display range [min, max], calibrated in µm. */
	private static ImagePlus calibrated(ImageProcessor ip, double min, double max) {
		for (int y = 0; y < ip.getHeight(); y++)
			for (int x = 0; x < ip.getWidth(); x++)
				ip.setf(x, y, (float) (min + (max - min) * x / (ip.getWidth() - 1.0)));
		ImagePlus imp = new ImagePlus("cells", ip);
		imp.setDisplayRange(min, max);
		Calibration cal = new Calibration();
		cal.pixelWidth = 0.25;
		cal.pixelHeight = 0.5;
		cal.setUnit("µm");
		imp.setCalibration(cal);
		return imp;
	}

	private static Parameters imageToImage(long seed) {
		Parameters p = new Parameters(Mode.IMAGE_TO_IMAGE);
		p.seed = seed;
		return p;
	}

	@Test
	void eightSixteenAndThirtyTwoBitComeBackInTheirTypeThroughTheDisplayRange() {
		ImagePlus[] inputs = { calibrated(new ByteProcessor(48, 32), 20, 220),
			calibrated(new ShortProcessor(48, 32), 1000, 3000), calibrated(new FloatProcessor(48, 32), -1.5, 2.5) };
		for (ImagePlus input : inputs) {
			fake.requests.clear();
			ImagePlus out = generation.run(imageToImage(128), input, new ImageJProgress(false)).image();
			String what = input.getBitDepth() + "-bit";
			assertEquals(input.getBitDepth(), out.getBitDepth(), what);
			assertEquals(input.getDisplayRangeMin(), out.getDisplayRangeMin(), 1e-9, what);
			assertEquals(input.getDisplayRangeMax(), out.getDisplayRangeMax(), 1e-9, what);
			assertEquals(0.25, out.getCalibration().pixelWidth, what);
			assertEquals(0.5, out.getCalibration().pixelHeight, what);
			assertEquals("µm", out.getCalibration().getUnit(), what);
			// Going in: [min, max] → [0, 1], grey (R = G = B); the left column is min, the right one max.
			GenerationRequest r = fake.requests.get(0);
			for (int c = 0; c < 3; c++) {
				assertEquals(0f, r.initImage().getAt(0, 5, c).get(), 1e-6, what);
				assertEquals(1f, r.initImage().getAt(r.width() - 1, 5, c).get(), 1e-6, what);
			}
			// Coming back: the fake's grey g (equal R, G, B: luminance g) → min + g·(max − min).
			double min = input.getDisplayRangeMin(), max = input.getDisplayRangeMax();
			double expected = min + (max - min) * FakeGenerator.grey(128);
			if (input.getBitDepth() != 32) expected = Math.round(expected);
			assertEquals(expected, out.getProcessor().getf(7, 9), 1e-4, what);
			assertTrue(out.getInfoProperty().startsWith(Generation.AI_GENERATED), what);
			assertTrue(out.getInfoProperty().contains("Seed: 128"), out.getInfoProperty());
		}
	}

	@Test
	void theLuminanceUsesRec601Weights() {
		var rgb = net.imglib2.img.array.ArrayImgs.floats(new float[] { 1, 0, 0 }, 1, 1, 3);
		ImageProcessor out = GreyLevels.toProcessor(new ShortProcessor(1, 1), new double[] { 0, 1000 }, rgb, null);
		assertEquals(299, out.get(0), "pure red: 0.299 of the range");
	}

	@Test
	void anEightBitImageKeepsItsLut() {
		ImagePlus input = calibrated(new ByteProcessor(48, 32), 0, 255);
		LUT inverted = input.getProcessor().getLut().createInvertedLut();
		input.getProcessor().setLut(inverted);
		ImagePlus out = generation.run(imageToImage(10), input, new ImageJProgress(false)).image();
		byte[] expected = new byte[256], actual = new byte[256];
		inverted.getReds(expected);
		out.getProcessor().getLut().getReds(actual);
		assertArrayEquals(expected, actual);
		// The model saw the values, not the LUT's colours: value 0 went in as black.
		assertEquals(0f, fake.requests.get(0).initImage().getAt(0, 0, 0).get());
	}

	@Test
	void rgbOnRequestKeepsThePixelSize() {
		ImagePlus input = calibrated(new ShortProcessor(48, 32), 1000, 3000);
		Parameters p = imageToImage(3);
		p.output = Parameters.RGB;
		ImagePlus out = generation.run(p, input, new ImageJProgress(false)).image();
		assertEquals(ImagePlus.COLOR_RGB, out.getType());
		assertEquals(0.25, out.getCalibration().pixelWidth);
		assertEquals("µm", out.getCalibration().getUnit());
	}

	@Test
	void aSixteenBitStackStaysASixteenBitStack() {
		ImageStack stack = new ImageStack(16, 16);
		for (int i = 0; i < 3; i++)
			stack.addSlice(new ShortProcessor(16, 16));
		ImagePlus input = new ImagePlus("stack", stack);
		Parameters p = imageToImage(3);
		p.stack = true;
		ImagePlus out = generation.run(p, input, new ImageJProgress(false)).image();
		assertEquals(3, out.getStackSize());
		assertEquals(16, out.getBitDepth());
	}

	/** Two 16-bit channels with different display ranges, as a composite image. */
	private static CompositeImage twoChannels() {
		ImageStack stack = new ImageStack(32, 32);
		stack.addSlice(new ShortProcessor(32, 32));
		stack.addSlice(new ShortProcessor(32, 32));
		for (int i = 0; i < 32 * 32; i++) {
			stack.getProcessor(1).set(i, 100 + i % 50);
			stack.getProcessor(2).set(i, 4000 + i % 70);
		}
		ImagePlus imp = new ImagePlus("two channels", stack);
		imp.setDimensions(2, 1, 1);
		CompositeImage ci = new CompositeImage(imp, CompositeImage.COMPOSITE);
		ci.setPosition(1, 1, 1);
		ci.setDisplayRange(100, 150);
		ci.setPosition(2, 1, 1);
		ci.setDisplayRange(4000, 5000);
		ci.setPosition(1, 1, 1);
		return ci;
	}

	@Test
	void eachChannelOfACompositeGivesAChannelOfTheSameType() {
		CompositeImage input = twoChannels();
		Parameters p = imageToImage(200);
		p.channels = Parameters.EACH;
		ImagePlus out = generation.run(p, input, new ImageJProgress(false)).image();
		assertEquals(2, fake.requests.size(), "one generation per channel");
		assertTrue(out.isComposite());
		assertEquals(2, out.getNChannels());
		assertEquals(16, out.getBitDepth());
		double g = FakeGenerator.grey(200);
		CompositeImage ci = (CompositeImage) out;
		assertEquals(4000, ci.getChannelLut(2).min);
		assertEquals(5000, ci.getChannelLut(2).max);
		assertEquals(Math.round(100 + 50 * g), out.getStack().getProcessor(1).get(3, 3));
		assertEquals(Math.round(4000 + 1000 * g), out.getStack().getProcessor(2).get(3, 3));
	}

	@Test
	void theMergedViewOfACompositeIsRgbAsBefore() {
		ImagePlus out = generation.run(imageToImage(200), twoChannels(), new ImageJProgress(false)).image();
		assertEquals(1, fake.requests.size());
		assertEquals(ImagePlus.COLOR_RGB, out.getType());
	}

	@Test
	void eachChannelInpaintingKeepsEveryChannelOutsideTheSelection() {
		CompositeImage input = twoChannels();
		input.setRoi(new Roi(5, 6, 10, 9));
		Parameters p = new Parameters(Mode.INPAINT);
		p.seed = 255;
		p.channels = Parameters.EACH;
		ImagePlus out = generation.run(p, input, new ImageJProgress(false)).image();
		for (int c = 1; c <= 2; c++) {
			short[] before = (short[]) input.getStack().getPixels(c), after = (short[]) out.getStack().getPixels(c);
			int changedInside = 0;
			for (int i = 0; i < before.length; i++) {
				boolean inside = input.getRoi().contains(i % 32, i / 32);
				if (!inside) assertEquals(before[i], after[i], "channel " + c + ", pixel " + i);
				else if (before[i] != after[i]) changedInside++;
			}
			assertTrue(changedInside > 0, "channel " + c);
		}
	}
}
