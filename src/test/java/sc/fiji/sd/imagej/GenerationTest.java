package sc.fiji.sd.imagej;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import ij.ImagePlus;
import ij.ImageStack;
import ij.gui.Roi;
import ij.process.ByteProcessor;
import ij.process.ColorProcessor;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/** The shared front-end path with a fake pipeline: requests built, sizes, seeds, titles, provenance, pasting. */
class GenerationTest {

	private final FakeGenerator fake = new FakeGenerator();
	private final Generation generation = new Generation(fake);

	private static Parameters textToImage(String prompt, long seed) {
		Parameters p = new Parameters(Mode.TEXT_TO_IMAGE);
		p.prompt = prompt;
		p.seed = seed;
		p.steps = 3;
		return p;
	}

	@Test
	void textToImageBuildsTheRequestAndTitlesTheWindowWithPromptAndSeed() {
		Parameters p = textToImage("a red circle", 42);
		p.scheduler = "Euler a";
		ImagePlus imp = generation.run(p, null, new ImageJProgress(false)).image();
		GenerationRequest r = fake.requests.get(0);
		assertEquals(Mode.TEXT_TO_IMAGE, r.mode());
		assertEquals("a red circle", r.prompt());
		assertEquals(42, r.seed());
		assertEquals("Euler a", r.scheduler());
		assertEquals(64, r.width(), "0 means the model's native size");
		assertEquals("a red circle (seed 42)", imp.getTitle());
		assertEquals(ImagePlus.COLOR_RGB, imp.getType());
		assertEquals(64, imp.getWidth());
	}

	@Test
	void resultsCarryTheParametersTextAndTheAiGeneratedMark() {
		ImagePlus imp = generation.run(textToImage("a cat", 7), null, new ImageJProgress(false)).image();
		String info = imp.getInfoProperty();
		assertTrue(info.startsWith(Generation.AI_GENERATED), info);
		assertTrue(info.contains("parameters: a cat\nSteps: 3, Seed: 7"), info);
		assertEquals("a cat\nSteps: 3, Seed: 7, Size: 64x64", imp.getProperty(Generation.PARAMETERS_PROPERTY));
		assertEquals("a cat\nSteps: 3, Seed: 7, Size: 64x64", Provenance.parameters(imp));
	}

	@Test
	void aRandomSeedIsDrawnOnceAndReportedBackForRecording() {
		Parameters p = textToImage("x", -1);
		ImagePlus imp = generation.run(p, null, new ImageJProgress(false)).image();
		assertTrue(p.seed >= 0 && p.seed < (1L << 32), "drawn seed " + p.seed);
		assertEquals(p.seed, fake.requests.get(0).seed(), "the request got the drawn seed, not -1");
		assertTrue(imp.getTitle().endsWith("(seed " + p.seed + ")"));
	}

	@Test
	void aBatchIsAStackWithOneSeedPerSlice() {
		Parameters p = textToImage("dots", 10);
		p.batch = 3;
		ImagePlus imp = generation.run(p, null, new ImageJProgress(false)).image();
		assertEquals(3, imp.getStackSize());
		assertEquals(3, fake.requests.get(0).batchCount());
		assertEquals("seed 12", imp.getStack().getShortSliceLabel(3));
		assertEquals(FakeGenerator.grey(11) * 255, ((ColorProcessor) imp.getStack().getProcessor(2)).get(5, 5) & 0xff, 1);
		imp.setSlice(2);
		assertTrue(Provenance.parameters(imp).contains("Seed: 11"));
	}

	@Test
	void sizesOffTheModelStepAreGeneratedAtTheNearestStepAndReturnedAtTheAskedSize() {
		Parameters p = textToImage("x", 1);
		p.width = 70;
		p.height = 40;
		ImagePlus imp = generation.run(p, null, new ImageJProgress(false)).image();
		assertEquals(64, fake.requests.get(0).width());
		assertEquals(48, fake.requests.get(0).height());
		assertEquals(70, imp.getWidth());
		assertEquals(40, imp.getHeight());
	}

	@Test
	void imageToImageUsesTheInputAtAModelSizeAndLeavesItUntouched() {
		ByteProcessor bp = new ByteProcessor(50, 30);
		bp.setColor(200);
		bp.fill();
		ImagePlus input = new ImagePlus("input", bp);
		byte[] before = ((byte[]) bp.getPixels()).clone();
		Parameters p = new Parameters(Mode.IMAGE_TO_IMAGE);
		p.seed = 5;
		p.strength = 0.4;
		ImagePlus out = generation.run(p, input, new ImageJProgress(false)).image();
		GenerationRequest r = fake.requests.get(0);
		assertEquals(48, r.width());
		assertEquals(32, r.height());
		assertEquals(0.4, r.strength());
		assertArrayEquals(new long[] { 48, 32, 3 }, r.initImage().dimensionsAsLongArray());
		assertEquals(200 / 255f, r.initImage().getAt(10, 10, 1).get(), 1e-5);
		assertEquals(50, out.getWidth());
		assertEquals(30, out.getHeight());
		assertArrayEquals(before, (byte[]) input.getProcessor().getPixels());
		assertEquals("input", input.getTitle());
	}

	@Test
	void inpaintingRepaintsOnlyInsideTheSelection() {
		ColorProcessor cp = new ColorProcessor(40, 40);
		cp.setColor(0x336699);
		cp.fill();
		ImagePlus input = new ImagePlus("photo", cp);
		input.setRoi(new Roi(10, 10, 20, 20));
		int[] before = ((int[]) cp.getPixels()).clone();
		Parameters p = new Parameters(Mode.INPAINT);
		p.seed = 255; // the fake paints white
		p.feather = 0;
		ImagePlus out = generation.run(p, input, new ImageJProgress(false)).image();
		GenerationRequest r = fake.requests.get(0);
		assertEquals(1f, r.mask().getAt(15, 15).get());
		assertEquals(0f, r.mask().getAt(5, 5).get());
		ColorProcessor result = (ColorProcessor) out.getProcessor();
		assertEquals(0x336699, result.get(5, 5) & 0xffffff, "outside the selection: the input, exactly");
		assertEquals(0x336699, result.get(39, 39) & 0xffffff);
		assertEquals(0xffffff, result.get(15, 15) & 0xffffff, "inside: generated");
		assertArrayEquals(before, (int[]) cp.getPixels());
		assertEquals(new java.awt.Rectangle(10, 10, 20, 20), input.getRoi().getBounds());
	}

	@Test
	void inpaintingWithoutASelectionSaysWhatToDo() {
		ImagePlus input = new ImagePlus("photo", new ByteProcessor(32, 32));
		var e = assertThrows(StableDiffusionException.class,
			() -> generation.run(new Parameters(Mode.INPAINT), input, new ImageJProgress(false)));
		assertTrue(e.getMessage().contains("Draw one"), e.getMessage());
		assertTrue(fake.requests.isEmpty());
	}

	@Test
	void imageModesWithoutAnImageAndBadNumbersAreUserErrors() {
		assertThrows(StableDiffusionException.class,
			() -> generation.run(new Parameters(Mode.IMAGE_TO_IMAGE), null, new ImageJProgress(false)));
		Parameters steps = textToImage("x", 1);
		steps.steps = 0;
		assertTrue(assertThrows(StableDiffusionException.class,
			() -> generation.run(steps, null, new ImageJProgress(false))).getMessage().contains("Steps"));
		Parameters strength = new Parameters(Mode.IMAGE_TO_IMAGE);
		strength.strength = 1.5;
		assertThrows(StableDiffusionException.class,
			() -> generation.run(strength, new ImagePlus("i", new ByteProcessor(8, 8)), new ImageJProgress(false)));
	}

	/** ImageJ runs the core's validator, so its rules are the command line's: only −1 draws a seed. */
	@Test
	void theCoresRulesApplyOnlyMinusOneDrawsASeed() {
		Parameters minusFive = textToImage("x", -5);
		String message = assertThrows(StableDiffusionException.class, () -> generation.run(minusFive, null,
			new ImageJProgress(false))).getMessage();
		assertTrue(message.contains("Seed -5 is not possible") && message.contains("-1 for a random one"), message);
		Parameters guidance = textToImage("x", 1);
		guidance.guidance = 101;
		assertTrue(assertThrows(StableDiffusionException.class, () -> generation.run(guidance, null,
			new ImageJProgress(false))).getMessage().contains("Guidance (CFG scale) must be between 0 and 100"));
		Parameters width = textToImage("x", 1);
		width.width = -64;
		assertTrue(assertThrows(StableDiffusionException.class, () -> generation.run(width, null,
			new ImageJProgress(false))).getMessage().contains("Width -64 is not possible"));
		assertTrue(fake.requests.isEmpty(), "nothing ran");
		Parameters random = textToImage("x", -1);
		generation.run(random, null, new ImageJProgress(false));
		assertTrue(random.seed >= 0 && random.seed < 1L << 32, "the drawn seed is written back: " + random.seed);
		assertEquals(random.seed, fake.requests.get(0).seed(), "and is the one the request used");
	}

	@Test
	void allSlicesOfAStackWhenAsked() {
		ImageStack stack = new ImageStack(16, 16);
		for (int i = 0; i < 3; i++)
			stack.addSlice(new ByteProcessor(16, 16));
		ImagePlus input = new ImagePlus("stack", stack);
		Parameters p = new Parameters(Mode.IMAGE_TO_IMAGE);
		p.seed = 3;
		assertEquals(1, generation.run(p, input, new ImageJProgress(false)).image().getStackSize());
		p.stack = true;
		assertEquals(3, generation.run(p, input, new ImageJProgress(false)).image().getStackSize());
		assertEquals(4, fake.requests.size());
	}

	@Test
	void anInterruptedRunKeepsWhatFinished() {
		fake.interruptAfter = 1;
		Parameters p = textToImage("x", 1);
		p.batch = 4;
		Generation.Outcome o = generation.run(p, null, new ImageJProgress(false));
		assertTrue(o.interrupted());
		assertEquals(1, o.image().getStackSize());
	}

	@Test
	void escStopsTheRunAndKeepsWhatFinished() {
		fake.escapeAfter = 2;
		Parameters p = textToImage("x", 1);
		p.batch = 5;
		ImageJProgress progress = new ImageJProgress(false);
		Generation.Outcome o = generation.run(p, null, progress);
		assertTrue(o.interrupted() && progress.wasCanceled());
		assertEquals(2, o.image().getStackSize());
		new ImageJProgress(false); // a new run starts with Esc released
		assertTrue(!ij.IJ.escapePressed());
	}

	@Test
	void theStatusLineSaysStepAndSpeed() {
		ImageJProgress progress = new ImageJProgress(false);
		var step = new sc.fiji.sd.pipeline.StepProgress(0, 1, 7, 20, 0.4123, new float[0], null, new long[] { 1, 4, 8, 8 });
		assertEquals("Stable Diffusion: step 7/20, 0.41 s/step (Esc stops)", progress.statusLine(step));
		progress.startPart(1, 3);
		var second = new sc.fiji.sd.pipeline.StepProgress(1, 2, 3, 20, 1.5, new float[0], null, new long[] { 1, 4, 8, 8 });
		assertEquals("Stable Diffusion: image 4/6, step 3/20, 1.50 s/step (Esc stops)", progress.statusLine(second));
	}

	@Test
	void titlesAreShortAndNeverEmpty() {
		assertEquals("Stable Diffusion (seed 3)", Generation.title("  ", 3));
		String longTitle = Generation.title("x".repeat(100), 3);
		assertTrue(longTitle.length() < 80 && longTitle.endsWith("... (seed 3)"), longTitle);
		assertNull(new ImagePlus().getProperty(Generation.PARAMETERS_PROPERTY));
	}
}
