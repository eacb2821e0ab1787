package sc.fiji.sd.fiji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scijava.Context;
import org.scijava.command.Command;
import org.scijava.command.CommandModule;
import org.scijava.command.CommandService;
import org.scijava.prefs.PrefService;

import ij.ImagePlus;
import ij.WindowManager;
import ij.gui.OvalRoi;
import ij.macro.Interpreter;
import ij.process.ByteProcessor;
import ij.process.ColorProcessor;
import sc.fiji.sd.ij1.SmallModel;
import sc.fiji.sd.imagej.Settings;
import sc.fiji.sd.pipeline.TestModels;

/**
 * The Fiji commands with a ControlNet, on cncore's random-weight fixtures in OnnxStack's split layout (a base model
 * with controlnet/model.onnx and a ControlNet made for it): the control image from the command's image selection
 * or from an open image by title, and the bad inputs that must cancel with a message and no result.
 */
class ControlNetCommandTest {

	private static Context context;
	private static CommandService commands;
	private static File base, controlNet;

	@BeforeAll
	static void start() {
		context = new Context();
		commands = context.service(CommandService.class);
		clearPrefs();
		base = SmallModel.folder("controlnet").toFile();
		controlNet = TestModels.controlNet("controlnet-scale").toAbsolutePath().toFile();
		context.service(StableDiffusionService.class).apply(new Settings(SmallModel.folder().toString(), "cpu", 0));
	}

	@AfterAll
	static void stop() {
		clearPrefs();
		Settings.defaults().save();
		context.dispose();
	}

	private static void clearPrefs() {
		for (var c : java.util.List.of(TextToImageCommand.class, ImageToImageCommand.class, InpaintCommand.class,
			OutpaintCommand.class))
			context.service(PrefService.class).clear(c);
	}

	private static CommandModule run(Class<? extends Command> command, Object... inputs) throws Exception {
		Map<String, Object> map = new HashMap<>(Map.of("prompt", "a red circle", "steps", 2, "seed", 9L, "scheduler",
			"DDIM", "model", base, "controlnet", controlNet, "device", "cpu"));
		if (command == TextToImageCommand.class) map.putAll(Map.of("width", 64, "height", 64)); // not the fixture's 512
		for (int i = 0; i < inputs.length; i += 2)
			map.put((String) inputs[i], inputs[i + 1]);
		return commands.run(command, true, map).get();
	}

	private static int[] pixels(CommandModule m) {
		ImagePlus result = (ImagePlus) m.getOutput("result");
		assertNotNull(result, "cancelled: " + m.getCancelReason());
		return (int[]) result.getProcessor().getPixels();
	}

	private static ImagePlus photoWithOval() {
		ColorProcessor cp = new ColorProcessor(64, 64);
		cp.setColor(0x2080c0);
		cp.fill();
		ImagePlus photo = new ImagePlus("photo", cp);
		photo.setRoi(new OvalRoi(12, 20, 36, 24));
		return photo;
	}

	@Test
	void imageToImageFollowsTheSelectionOfItsImageAndLeavesTheImageAlone() throws Exception {
		ImagePlus photo = photoWithOval();
		int[] before = ((int[]) photo.getProcessor().getPixels()).clone();
		int[] controlled = pixels(run(ImageToImageCommand.class, "image", photo, "strength", 0.8, "control",
			"selection"));
		int[] again = pixels(run(ImageToImageCommand.class, "image", photo, "strength", 0.8, "control", "selection"));
		int[] free = pixels(run(ImageToImageCommand.class, "image", photo, "strength", 0.8, "control", "none"));
		assertArrayEquals(controlled, again, "the same inputs, the same pixels");
		assertTrue(!java.util.Arrays.equals(controlled, free), "the ControlNet changes the image");
		assertArrayEquals(before, (int[]) photo.getProcessor().getPixels());
		assertEquals(new OvalRoi(12, 20, 36, 24).getBounds(), photo.getRoi().getBounds());
	}

	/**
	 * An open image chosen by title (a macro's batch-mode image here, which ImageJ lists as open), preprocessed with
	 * canny and shown as its own window; at scale 0 the ControlNet has no effect.
	 */
	@Test
	void textToImageTakesAnOpenImageByTitleAndShowsTheControlImage() throws Exception {
		ByteProcessor square = new ByteProcessor(96, 96);
		square.setValue(255);
		square.setRoi(24, 24, 48, 48);
		square.fill();
		ImagePlus source = new ImagePlus("square source", square);
		boolean batch = Interpreter.batchMode;
		Interpreter.batchMode = true;
		Interpreter.addBatchModeImage(source);
		try {
			CommandModule first = run(TextToImageCommand.class, "control", "square source", "control_type", "canny",
				"show_control", true);
			int[] controlled = pixels(first);
			String parameters = (String) ((ImagePlus) first.getOutput("result")).getProperty(
				sc.fiji.sd.imagej.Generation.PARAMETERS_PROPERTY);
			assertTrue(parameters.contains("ControlNet 0: \"Module: canny, Model: controlnet-scale, Weight: 1"),
				parameters);
			ImagePlus shown = WindowManager.getImage("Control (canny) of square source");
			assertNotNull(shown, "show_control opens the preprocessed control image");
			assertEquals(64, shown.getWidth(), "at the output size (96 → 64, said in the Log)");
			int[] edges = (int[]) shown.getProcessor().getPixels();
			assertEquals(0, edges[32 * 64 + 32] & 0xffffff, "inside the square: no edge");
			assertEquals(0xffffff, edges[32 * 64 + 15] & 0xffffff, "its left side (24 × 64/96 = 16): white");
			Interpreter.removeBatchModeImage(shown);
			int[] off = pixels(run(TextToImageCommand.class, "control", "square source", "control_type", "canny",
				"control_scale", 0.0));
			int[] none = pixels(run(TextToImageCommand.class, "control", "none"));
			assertTrue(!java.util.Arrays.equals(controlled, none), "scale 1 changes the image");
			assertArrayEquals(none, off, "scale 0: the base model's pixels");
		}
		finally {
			Interpreter.removeBatchModeImage(source);
			Interpreter.batchMode = batch;
		}
	}

	/** Outpaint: the image's selection, moved onto the larger canvas, shapes the new area; the original is kept. */
	@Test
	void outpaintFollowsTheSelectionOfItsImageOnTheLargerCanvas() throws Exception {
		ImagePlus photo = photoWithOval();
		photo.setRoi(new OvalRoi(-20, 20, 40, 24), false); // half of it in the new area on the left
		int[] before = ((int[]) photo.getProcessor().getPixels()).clone();
		int[] controlled = pixels(run(OutpaintCommand.class, "image", photo, "left", 32, "right", 32, "control",
			"selection"));
		int[] free = pixels(run(OutpaintCommand.class, "image", photo, "left", 32, "right", 32, "control", "none"));
		assertEquals(128 * 64, controlled.length, "the canvas: 64 + 32 + 32 wide");
		assertTrue(!java.util.Arrays.equals(controlled, free), "the ControlNet changes the new area");
		for (int y = 0; y < 64; y++)
			for (int x = 0; x < 64; x++)
				assertEquals(before[y * 64 + x] & 0xffffff, controlled[y * 128 + x + 32] & 0xffffff, "original kept");
		assertArrayEquals(before, (int[]) photo.getProcessor().getPixels());
	}

	/** No ControlNet given: the one beside the model (how the embedded model's shipped ControlNet is found). */
	@Test
	void theControlNetBesideTheModelIsTheDefault(@TempDir Path dir) throws Exception {
		File shipped = TestModels.embeddedWithControlNet(dir).toFile();
		int[] byDefault = pixels(run(ImageToImageCommand.class, "image", photoWithOval(), "strength", 0.8, "control",
			"selection", "model", shipped, "controlnet", GenerationCommand.NO_MODEL));
		int[] named = pixels(run(ImageToImageCommand.class, "image", photoWithOval(), "strength", 0.8, "control",
			"selection"));
		assertArrayEquals(named, byDefault, "the same ControlNet as named explicitly");
		CommandModule none = run(ImageToImageCommand.class, "image", photoWithOval(), "strength", 0.8, "control",
			"selection", "controlnet", GenerationCommand.NO_MODEL);
		assertTrue(none.getCancelReason().contains("No ControlNet is given and there is none beside the model")
			&& none.getCancelReason().contains("controlnet=[folder]"), none.getCancelReason());
	}

	@Test
	void anUnknownTitleCancelsWithTheChoices() throws Exception {
		CommandModule m = run(TextToImageCommand.class, "control", "no such image");
		assertTrue(m.isCanceled());
		assertTrue(m.getCancelReason().contains("No open image is titled \"no such image\""), m.getCancelReason());
		assertNull(m.getOutput("result"));
	}

	@Test
	void aSelectionIsNeededForControlSelection() throws Exception {
		ImagePlus plain = new ImagePlus("plain", new ColorProcessor(64, 64));
		CommandModule m = run(ImageToImageCommand.class, "image", plain, "control", "selection");
		assertTrue(m.getCancelReason().contains("\"plain\", which has none"), m.getCancelReason());
		assertNull(m.getOutput("result"));
		// Said before any model loads: this base cannot take a ControlNet, but the missing selection comes first.
		m = run(ImageToImageCommand.class, "image", plain, "control", "selection", "model", SmallModel.folder()
			.toFile());
		assertTrue(m.getCancelReason().contains("\"plain\", which has none"), m.getCancelReason());
	}

	@Test
	void aBaseModelWithoutTheControlNetUnetIsNamed() throws Exception {
		CommandModule m = run(ImageToImageCommand.class, "image", photoWithOval(), "model", SmallModel.folder().toFile(),
			"control", "selection");
		assertTrue(m.isCanceled());
		assertTrue(m.getCancelReason().contains("has no controlnet/model.onnx"), m.getCancelReason());
		assertNull(m.getOutput("result"));
	}

	@Test
	void aControlNetMadeForAnotherBaseIsNamedWithTheBase() throws Exception {
		File wide = TestModels.controlNet("controlnet-wide").toAbsolutePath().toFile();
		CommandModule m = run(ImageToImageCommand.class, "image", photoWithOval(), "control", "selection",
			"controlnet", wide);
		assertTrue(m.isCanceled());
		assertTrue(m.getCancelReason().contains("was made for another base model") && m.getCancelReason().contains(
			"controlnet-wide"), m.getCancelReason());
		assertNull(m.getOutput("result"));
	}

	/** A ControlNet asked for with a 9-channel inpainting UNet: one clear message, no result, the input untouched. */
	@Test
	void aNineChannelInpaintingModelRefusesTheControlNet(@TempDir Path dir) throws Exception {
		Path inpaint = dir.resolve("inpaint9-with-controlnet");
		copy(SmallModel.folder("inpaint9"), inpaint);
		Files.createDirectories(inpaint.resolve("controlnet"));
		Files.copy(inpaint.resolve("unet/model.onnx"), inpaint.resolve("controlnet/model.onnx"));
		ImagePlus photo = photoWithOval();
		int[] before = ((int[]) photo.getProcessor().getPixels()).clone();
		CommandModule m = run(InpaintCommand.class, "image", photo, "model", inpaint.toFile(), "strength", 1.0,
			"control", "selection");
		assertTrue(m.isCanceled());
		assertTrue(m.getCancelReason().contains("ControlNet does not work with the 9-channel inpainting UNet"), m
			.getCancelReason());
		assertNull(m.getOutput("result"));
		assertArrayEquals(before, (int[]) photo.getProcessor().getPixels());
	}

	private static void copy(Path from, Path to) throws Exception {
		try (var files = Files.walk(from)) {
			for (Path f : (Iterable<Path>) files::iterator) {
				Path target = to.resolve(from.relativize(f).toString());
				if (Files.isDirectory(f)) Files.createDirectories(target);
				else Files.copy(f, target);
			}
		}
	}
}
