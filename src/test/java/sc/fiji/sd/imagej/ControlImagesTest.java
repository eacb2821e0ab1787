package sc.fiji.sd.imagej;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ij.ImagePlus;
import ij.gui.OvalRoi;
import ij.gui.Line;
import ij.process.ByteProcessor;
import ij.process.ColorProcessor;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.type.numeric.real.FloatType;
import net.imglib2.view.Views;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.pipeline.ControlNetUnit;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/** The control image a run's options build, with a fake pipeline that keeps the requests. */
class ControlImagesTest {

	@TempDir
	Path dir;

	private final FakeGenerator fake = new FakeGenerator();
	private final Map<String, ImagePlus> open = new LinkedHashMap<>();
	private ImagePlus active;
	private final ControlImages.OpenImages images = new ControlImages.OpenImages() {
		@Override
		public ImagePlus byTitle(String title) {
			return open.get(title);
		}

		@Override
		public ImagePlus current() {
			return active;
		}

		@Override
		public String[] titles() {
			return open.keySet().toArray(new String[0]);
		}
	};

	private ImagePlus openImage(ImagePlus imp) {
		open.put(imp.getTitle(), imp);
		active = imp;
		return imp;
	}

	private Parameters textToImage(String control) throws Exception {
		Parameters p = new Parameters(Mode.TEXT_TO_IMAGE);
		p.prompt = "a red circle";
		p.seed = 3;
		p.steps = 2;
		p.control = control;
		p.controlnet = Files.createDirectories(dir.resolve("cn")).toString();
		return p;
	}

	private ControlNetUnit run(Parameters p, ImagePlus input) {
		new Generation(fake, images).run(p, input, new ImageJProgress(false));
		GenerationRequest r = fake.requests.get(fake.requests.size() - 1);
		assertEquals(1, r.controls().size());
		return r.controls().get(0);
	}

	/** Plane c of an X × Y × 3 image, Y-major. */
	private static float[] plane(RandomAccessibleInterval<FloatType> img, int c) {
		int w = (int) img.dimension(0), h = (int) img.dimension(1);
		float[] out = new float[w * h];
		var cursor = Views.flatIterable(Views.hyperSlice(img, 2, c)).cursor();
		for (int i = 0; i < out.length; i++)
			out[i] = cursor.next().get();
		return out;
	}

	@Test
	void noControlAddsNoControlNet() throws Exception {
		new Generation(fake, images).run(textToImage(ControlImages.NONE), null, new ImageJProgress(false));
		assertTrue(fake.requests.get(0).controls().isEmpty());
		assertTrue(!ControlImages.requested(textToImage("")));
	}

	@Test
	void theSelectionBecomesAWhiteOnBlackMaskAndTheImageKeepsItsPixelsAndSelection() throws Exception {
		ImagePlus photo = openImage(new ImagePlus("photo", new ColorProcessor(64, 64)));
		photo.getProcessor().setColor(java.awt.Color.ORANGE);
		photo.getProcessor().fill();
		OvalRoi oval = new OvalRoi(10, 14, 30, 20);
		photo.setRoi(oval);
		int[] before = ((int[]) photo.getProcessor().getPixels()).clone();
		Parameters p = textToImage("selection");
		p.control_scale = 0.8;
		p.control_start = 0.1;
		p.control_end = 0.9;
		ControlNetUnit unit = run(p, null);
		float[] expected = ImagePlusConverter.roiMask(photo).update(null).getCurrentStorageArray();
		for (int c = 0; c < 3; c++)
			assertArrayEquals(expected, plane(unit.image(), c), "channel " + c + ": the selection mask");
		assertEquals(Path.of(p.controlnet), unit.model());
		assertEquals("none", unit.module());
		assertEquals(0.8, unit.scale());
		assertEquals(0.1, unit.start());
		assertEquals(0.9, unit.end());
		assertArrayEquals(before, (int[]) photo.getProcessor().getPixels(), "the source is only read");
		assertEquals(oval.getBounds(), photo.getRoi().getBounds(), "and keeps its selection");
	}

	@Test
	void anImageOfAnotherSizeIsResizedToTheOutputAndPreprocessed() throws Exception {
		ByteProcessor square = new ByteProcessor(100, 100);
		square.setValue(255);
		square.setRoi(30, 30, 40, 40);
		square.fill();
		openImage(new ImagePlus("edges source", square));
		openImage(new ImagePlus("other", new ByteProcessor(8, 8))); // the active one; the title decides
		Parameters p = textToImage("edges source");
		p.control_type = "canny";
		ControlNetUnit unit = run(p, null);
		assertEquals(64, unit.image().dimension(0), "the output size (the model's native 64)");
		assertEquals(64, unit.image().dimension(1));
		assertEquals("canny", unit.module());
		float[] edges = plane(unit.image(), 0);
		int white = 0;
		for (float v : edges) {
			assertTrue(v == 0 || v == 1);
			white += (int) v;
		}
		// The square is 25.6 pixels wide at 64: an outline of about 4 × 26 pixels, nothing inside or outside.
		assertTrue(white > 80 && white < 120, white + " edge pixels");
		assertEquals(0, edges[32 * 64 + 32], "inside");
		assertEquals(0, edges[5 * 64 + 5], "outside");
	}

	@Test
	void aLabelImageIsReadByItsRawValuesNotItsDisplayRange() throws Exception {
		ByteProcessor labels = new ByteProcessor(64, 64);
		for (int i = 0; i < 64 * 64; i++)
			labels.set(i, (i % 64) / 16); // four vertical bands: labels 0, 1, 2, 3
		labels.setMinAndMax(1, 3); // label 1 is shown black
		openImage(new ImagePlus("labels", labels));
		Parameters p = textToImage("labels");
		p.control_type = "mask";
		float[] mask = plane(run(p, null).image(), 0);
		assertEquals(0, mask[10 * 64 + 5], "label 0: background");
		assertEquals(1, mask[10 * 64 + 20], "label 1: an object, though displayed black");
		assertEquals(1, mask[10 * 64 + 60], "label 3");
	}

	@Test
	void imageToImageGetsTheControlAtTheModelsSize() throws Exception {
		ImagePlus input = openImage(new ImagePlus("input", new ColorProcessor(70, 50)));
		input.setRoi(new OvalRoi(5, 5, 30, 30));
		Parameters p = textToImage("selection");
		p.mode = Mode.IMAGE_TO_IMAGE;
		p.strength = 0.5;
		ControlNetUnit unit = run(p, input);
		assertEquals(64, unit.image().dimension(0), "70 → 64, the size the init image is resized to");
		assertEquals(48, unit.image().dimension(1));
	}

	@Test
	void controlSelectionWithoutASelectionSaysWhatToDraw() throws Exception {
		openImage(new ImagePlus("plain", new ByteProcessor(64, 64)));
		var e = assertThrows(StableDiffusionException.class, () -> run(textToImage("selection"), null));
		assertTrue(e.getMessage().contains("\"plain\", which has none") && e.getMessage().contains("makeOval"),
			e.getMessage());
		active.setRoi(new Line(1, 1, 20, 20));
		e = assertThrows(StableDiffusionException.class, () -> run(textToImage("selection"), null));
		assertTrue(e.getMessage().contains("a straight line selection, not an area"), e.getMessage());
		active = null;
		e = assertThrows(StableDiffusionException.class, () -> run(textToImage("selection"), null));
		assertTrue(e.getMessage().contains("no image is open"), e.getMessage());
		assertTrue(fake.requests.isEmpty(), "nothing generated");
	}

	@Test
	void anUnknownTitleListsTheChoices() throws Exception {
		openImage(new ImagePlus("blobs", new ByteProcessor(8, 8)));
		var e = assertThrows(StableDiffusionException.class, () -> run(textToImage("blobz"), null));
		assertTrue(e.getMessage().contains("No open image is titled \"blobz\"") && e.getMessage().contains(
			"none, selection, blobs"), e.getMessage());
	}

	@Test
	void badOptionsAreRefusedBeforeAnythingRuns() throws Exception {
		openImage(new ImagePlus("blobs", new ByteProcessor(8, 8)));
		Parameters type = textToImage("blobs");
		type.control_type = "depth";
		assertTrue(assertThrows(StableDiffusionException.class, () -> run(type, null)).getMessage().contains(
			"Unknown control type \"depth\""));
		Parameters thresholds = textToImage("blobs");
		thresholds.control_type = "canny";
		thresholds.control_low = 250;
		assertTrue(assertThrows(StableDiffusionException.class, () -> run(thresholds, null)).getMessage().contains(
			"control_low=100"));
		Parameters window = textToImage("blobs");
		window.control_start = 0.6;
		window.control_end = 0.4;
		assertTrue(assertThrows(StableDiffusionException.class, () -> run(window, null)).getMessage().contains(
			"0 ≤ start < end ≤ 1"));
		Parameters model = textToImage("blobs");
		model.controlnet = dir.resolve("missing").toString();
		assertTrue(assertThrows(StableDiffusionException.class, () -> run(model, null)).getMessage().contains(
			"The ControlNet folder " + dir.resolve("missing") + " (controlnet=) does not exist"));
		Parameters none = textToImage("blobs");
		none.controlnet = "";
		assertTrue(assertThrows(StableDiffusionException.class, () -> run(none, null)).getMessage().contains(
			"No ControlNet is given"));
		assertTrue(fake.requests.isEmpty(), "nothing generated");
	}

	/** Outpaint: the image's selection moved to where the image lies on the larger canvas, not the new area's. */
	@Test
	void outpaintsSelectionIsTheImagesOwnOnTheCanvas() throws Exception {
		ImagePlus photo = openImage(new ImagePlus("photo", new ColorProcessor(48, 32)));
		OvalRoi oval = new OvalRoi(-6, 4, 30, 20); // partly left of the image: the part in the new area counts
		photo.setRoi(oval, false);
		Parameters p = textToImage("selection");
		p.mode = Mode.INPAINT;
		p.outpainting = true;
		p.strength = 1;
		p.left = 16;
		p.top = 16;
		ControlNetUnit unit = run(p, photo);
		assertEquals(64, unit.image().dimension(0), "the canvas: 48 + 16");
		assertEquals(48, unit.image().dimension(1), "32 + 16");
		ImagePlus expected = new ImagePlus("expected", new ByteProcessor(64, 48));
		expected.setRoi(new OvalRoi(10, 20, 30, 20), false);
		float[] mask = ImagePlusConverter.roiMask(expected).update(null).getCurrentStorageArray();
		for (int c = 0; c < 3; c++)
			assertArrayEquals(mask, plane(unit.image(), c), "channel " + c + ": the oval moved by left and top");
		assertEquals(oval.getBounds(), photo.getRoi().getBounds(), "the image keeps its selection");
		assertEquals(48, photo.getWidth(), "and its size");

		photo.deleteRoi();
		var e = assertThrows(StableDiffusionException.class, () -> run(p, photo));
		assertTrue(e.getMessage().contains("control=[selection]") && e.getMessage().contains("\"photo\", which has "
			+ "none"), e.getMessage());
	}

	/** Outpaint: an open image is the control of the whole canvas, resized to it. */
	@Test
	void outpaintsControlImageCoversTheCanvas() throws Exception {
		openImage(new ImagePlus("scene", new ByteProcessor(32, 16)));
		ImagePlus photo = openImage(new ImagePlus("photo", new ColorProcessor(32, 32)));
		Parameters p = textToImage("scene");
		p.mode = Mode.INPAINT;
		p.outpainting = true;
		p.strength = 1;
		p.right = 32;
		ControlNetUnit unit = run(p, photo);
		assertEquals(64, unit.image().dimension(0));
		assertEquals(32, unit.image().dimension(1));
	}

	@Test
	void theEmbeddedModelsShippedControlNetIsTheDefaultOfFijiAndImageJ() throws Exception {
		Path base = Files.createDirectories(dir.resolve("cache/tiny-sd-shapes-1a2b3c4d"));
		Path shipped = Files.createDirectories(dir.resolve("cache/tiny-sd-shapes-1a2b3c4d-controlnet"));
		Parameters p = textToImage("selection");
		p.controlnet = ""; // not given
		String old = System.getProperty("sd.embeddedModel");
		try {
			System.setProperty("sd.embeddedModel", base.toString());
			var key = Generators.key(Settings.defaults(), p); // empty model in Settings: the embedded one
			assertEquals(base, key.folder());
			assertEquals(java.util.List.of(shipped), key.controlNets());
		}
		finally {
			if (old == null) System.clearProperty("sd.embeddedModel");
			else System.setProperty("sd.embeddedModel", old);
		}
	}

	@Test
	void theDefaultControlNetLiesBesideTheBaseModel() throws Exception {
		Path base = Files.createDirectories(dir.resolve("models/tiny-sd-shapes"));
		assertEquals(dir.resolve("models/tiny-sd-shapes-controlnet"), ControlImages.defaultModel(base));
		Files.createDirectories(ControlImages.defaultModel(base));
		Parameters p = textToImage("none");
		p.controlnet = " ";
		assertEquals(ControlImages.defaultModel(base), ControlImages.model(p, base));
	}
}
