package sc.fiji.sd.fiji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scijava.Context;
import org.scijava.command.CommandModule;
import org.scijava.command.CommandService;
import org.scijava.prefs.PrefService;

import ij.ImagePlus;
import sc.fiji.sd.ij1.SmallModel;
import sc.fiji.sd.imagej.Generation;
import sc.fiji.sd.imagej.Settings;
import sc.fiji.sd.provenance.PngReader;

/** The Fiji commands on a real (small, random-weight) model: same seed → same pixels, provenance, PNG, settings. */
class CommandsEndToEndTest {

	private static Context context;
	private static CommandService commands;

	@BeforeAll
	static void start() {
		context = new Context();
		commands = context.service(CommandService.class);
		context.service(PrefService.class).clear(TextToImageCommand.class);
		context.service(StableDiffusionService.class).apply(new Settings(SmallModel.folder().toString(), "cpu", 0));
	}

	@AfterAll
	static void stop() {
		context.service(PrefService.class).clear(TextToImageCommand.class);
		Settings.defaults().save();
		context.dispose();
	}

	private static ImagePlus textToImage(long seed) throws Exception {
		CommandModule m = commands.run(TextToImageCommand.class, true, Map.of("prompt", "a red circle", "steps", 3,
			"seed", seed, "width", 64, "height", 64, "scheduler", "DPM++ 2M Karras")).get();
		ImagePlus result = (ImagePlus) m.getOutput("result");
		assertNotNull(result, "cancelled: " + m.getCancelReason());
		return result;
	}

	@Test
	void theSameSeedGivesTheSamePixelsAndTheParametersSayHow() throws Exception {
		ImagePlus a = textToImage(42), b = textToImage(42), c = textToImage(43);
		assertArrayEquals((int[]) a.getProcessor().getPixels(), (int[]) b.getProcessor().getPixels());
		assertTrue(!java.util.Arrays.equals((int[]) a.getProcessor().getPixels(), (int[]) c.getProcessor().getPixels()));
		String parameters = (String) a.getProperty(Generation.PARAMETERS_PROPERTY);
		assertTrue(parameters.startsWith("a red circle\n") && parameters.contains("Steps: 3")
			&& parameters.contains("Seed: 42") && parameters.contains("DPM++ 2M"), parameters);
	}

	@Test
	void saveAsPngWritesTheParametersChunk(@TempDir Path dir) throws Exception {
		ImagePlus image = textToImage(7);
		File file = dir.resolve("circle.png").toFile();
		CommandModule m = commands.run(SavePngCommand.class, true, Map.of("image", image, "path", file)).get();
		assertTrue(!m.isCanceled(), m.getCancelReason());
		var text = PngReader.readText(file.toPath());
		assertEquals(image.getProperty(Generation.PARAMETERS_PROPERTY), text.get("parameters"));
		assertEquals("true", text.get("AI-generated"), "the same chunks as the command line writes");
		assertTrue(text.get("Comment").contains("AI-generated"), text.toString());
	}

	@Test
	void inpaintingWithANineChannelModelKeepsEverythingOutsideTheSelection() throws Exception {
		StableDiffusionService sd = context.service(StableDiffusionService.class);
		sd.apply(new Settings(SmallModel.folder("inpaint9").toString(), "cpu", 0));
		try {
			ij.process.ColorProcessor cp = new ij.process.ColorProcessor(64, 64);
			cp.setColor(0x2080c0);
			cp.fill();
			ImagePlus photo = new ImagePlus("photo", cp);
			photo.setRoi(new ij.gui.OvalRoi(16, 16, 32, 32));
			CommandModule m = commands.run(InpaintCommand.class, true, Map.of("image", photo, "prompt", "a dot",
				"steps", 3, "seed", 2L, "strength", 1.0, "feather", 0)).get();
			ImagePlus result = (ImagePlus) m.getOutput("result");
			assertNotNull(result, "cancelled: " + m.getCancelReason());
			assertEquals("inpaint9", sd.generator().modelName(), "the Settings model (the inpaint9 fixture) ran");
			int[] out = (int[]) result.getProcessor().getPixels();
			assertEquals(0x2080c0, out[2 * 64 + 2] & 0xffffff, "outside the oval: the input, exactly");
			assertEquals(0x2080c0, out[63 * 64 + 63] & 0xffffff);
			assertTrue((out[32 * 64 + 32] & 0xffffff) != 0x2080c0, "inside: repainted");
		}
		finally {
			sd.apply(new Settings(SmallModel.folder().toString(), "cpu", 0));
		}
	}

	@Test
	void textToImageOnSdxlBase() throws Exception {
		Path sdxl = SmallModel.folder("sdxl-base"); // two text encoders, text_embeds and time_ids
		CommandModule m = commands.run(TextToImageCommand.class, true, Map.of("prompt", "a red circle", "steps", 2,
			"seed", 5L, "width", 64, "height", 48, "model", sdxl.toFile(), "device", "cpu")).get();
		ImagePlus result = (ImagePlus) m.getOutput("result");
		assertNotNull(result, "cancelled: " + m.getCancelReason());
		assertEquals(64, result.getWidth());
		assertEquals(48, result.getHeight());
		String parameters = (String) result.getProperty(Generation.PARAMETERS_PROPERTY);
		assertTrue(parameters.contains("Seed: 5, Size: 64x48, Model: sdxl-base"), parameters);

		Map<String, Object> inputs = new HashMap<>(Map.of("prompt", "a red circle", "steps", 4, "seed", 6L, "width", 64,
			"height", 64, "model", sdxl.toFile(), "device", "cpu"));
		inputs.put("refiner", SmallModel.folder("sdxl-refiner").toFile());
		inputs.put("refiner_switch", 0.5);
		m = commands.run(TextToImageCommand.class, true, inputs).get();
		result = (ImagePlus) m.getOutput("result");
		assertNotNull(result, "cancelled: " + m.getCancelReason());
		parameters = (String) result.getProperty(Generation.PARAMETERS_PROPERTY);
		assertTrue(parameters.endsWith(", Refiner: sdxl-refiner, Refiner switch at: 0.5"), parameters);
	}

	@Test
	void aModelGivenToTheCommandIsUsedInsteadOfTheOneInSettings() throws Exception {
		// Settings name the int64-timestep fixture; the run names another folder, which its provenance records.
		Path other = SmallModel.folder("optimum");
		CommandModule m = commands.run(TextToImageCommand.class, true, Map.of("prompt", "a red circle", "steps", 2,
			"seed", 5L, "model", other.toFile(), "device", "cpu")).get();
		ImagePlus result = (ImagePlus) m.getOutput("result");
		assertNotNull(result, "cancelled: " + m.getCancelReason());
		assertTrue(result.getInfoProperty().contains("Model: " + other.getFileName()), result.getInfoProperty());
		// Without model= the next run is back on the settings' model.
		String usual = (String) textToImage(5).getProperty(Generation.PARAMETERS_PROPERTY);
		assertTrue(usual.contains("Model: " + SmallModel.folder().getFileName()), usual);
	}

	@Test
	void aMissingModelFolderGivenToTheCommandIsExplained() throws Exception {
		CommandModule m = commands.run(TextToImageCommand.class, true, Map.of("prompt", "x", "seed", 1L,
			"model", new File("/no/such/model"))).get();
		assertTrue(m.isCanceled());
		assertTrue(m.getCancelReason().contains("model folder /no/such/model (model=) does not exist"),
			m.getCancelReason());
	}

	@Test
	void settingsShowWhatIsLoadedAndWhereItRuns() throws Exception {
		CommandModule m = commands.run(SettingsCommand.class, true, Map.of("model", SmallModel.folder().toFile(),
			"device", "cpu", "threads", 0)).get();
		String text = (String) m.getOutput("diagnostics");
		assertTrue(text.contains("Size step:") && text.contains("Device:          cpu -> CPU") && text.contains("ONNX Runtime")
			&& text.contains("CUDA"), text);
	}

	@Test
	void aMissingModelFolderIsExplained() throws Exception {
		CommandModule m = commands.run(SettingsCommand.class, true, Map.of("model", new File("/no/such/model"),
			"device", "cpu", "threads", 0)).get();
		assertTrue(m.isCanceled());
		assertTrue(m.getCancelReason().contains("/no/such/model does not exist"), m.getCancelReason());
	}

	@Test
	void greyImagesKeepTheirTypeAndCalibrationAndOutpaintKeepsTheOriginal() throws Exception {
		context.service(PrefService.class).clear(ImageToImageCommand.class);
		context.service(PrefService.class).clear(OutpaintCommand.class);
		ij.process.ShortProcessor sp = new ij.process.ShortProcessor(48, 40);
		for (int i = 0; i < 48 * 40; i++)
			sp.set(i, 1000 + 13 * i % 3000);
		ImagePlus cells = new ImagePlus("cells", sp);
		cells.setDisplayRange(1000, 4000);
		ij.measure.Calibration cal = cells.getCalibration();
		cal.pixelWidth = cal.pixelHeight = 0.2;
		cal.setUnit("µm");
		CommandModule typed = commands.run(ImageToImageCommand.class, true, Map.of("image", cells, "prompt", "cells",
			"steps", 2, "seed", 3L, "strength", 0.5)).get();
		ImagePlus result = (ImagePlus) typed.getOutput("result");
		assertNotNull(result, "cancelled: " + typed.getCancelReason());
		assertEquals(16, result.getBitDepth());
		assertEquals(0.2, result.getCalibration().pixelWidth);
		assertEquals("µm", result.getCalibration().getUnit());
		assertEquals(4000, result.getDisplayRangeMax());
		CommandModule rgb = commands.run(ImageToImageCommand.class, true, Map.of("image", cells, "prompt", "cells",
			"steps", 2, "seed", 3L, "strength", 0.5, "output", "RGB")).get();
		assertEquals(ImagePlus.COLOR_RGB, ((ImagePlus) rgb.getOutput("result")).getType());

		CommandModule out = commands.run(OutpaintCommand.class, true, Map.of("image", cells, "prompt", "cells",
			"steps", 2, "seed", 3L, "right", 16, "top", 5, "output", "Same as input")).get();
		ImagePlus wider = (ImagePlus) out.getOutput("result");
		assertNotNull(wider, "cancelled: " + out.getCancelReason());
		assertEquals(64, wider.getWidth());
		assertEquals(45, wider.getHeight());
		for (int y = 0; y < 40; y++)
			for (int x = 0; x < 48; x++)
				assertEquals(sp.get(x, y), wider.getProcessor().get(x, y + 5), x + "," + y);
		assertTrue(wider.getInfoProperty().contains("Outpaint: \"left 0, right 16, top 5, bottom 0\""),
			wider.getInfoProperty());
	}

	// ---- variation seeds (subseed, variation) and the hires fix (hires, hiressteps, hiresstrength) ----

	/** Text to Image with a subseed and a variation strength (inputs persist: a test clears them after). */
	private static CommandModule varied(long subseed, double variation) throws Exception {
		Map<String, Object> inputs = new HashMap<>(Map.of("prompt", "a red circle", "steps", 2, "seed", 42L, "width",
			64, "height", 64, "scheduler", "DDIM"));
		inputs.put("subseed", subseed);
		inputs.put("variation", variation);
		CommandModule m = commands.run(TextToImageCommand.class, true, inputs).get();
		assertNotNull(m.getOutput("result"), "cancelled: " + m.getCancelReason());
		return m;
	}

	private static int[] pixelsOf(CommandModule m) {
		return (int[]) ((ImagePlus) m.getOutput("result")).getProcessor().getPixels();
	}

	@Test
	void drawnSubseedIsRecordedAndReplays() throws Exception {
		context.service(PrefService.class).clear(TextToImageCommand.class); // inputs persist, as in Fiji
		CommandModule drawn = varied(-1, 0.5);
		long subseed = (Long) drawn.getInput("subseed");
		assertTrue(subseed >= 0, "the drawn subseed is written back for the recorder: " + subseed);
		String parameters = (String) ((ImagePlus) drawn.getOutput("result")).getProperty(Generation.PARAMETERS_PROPERTY);
		assertTrue(parameters.endsWith("Variation seed: " + subseed + ", Variation seed strength: 0.5"), parameters);
		assertArrayEquals(pixelsOf(drawn), pixelsOf(varied(subseed, 0.5)));
		assertFalse(java.util.Arrays.equals(pixelsOf(drawn), pixelsOf(varied(subseed, 0))));
		assertEquals(-1L, varied(-1, 0).getInput("subseed"), "no subseed drawn while variations are off");
		context.service(PrefService.class).clear(TextToImageCommand.class);
	}

	@Test
	void hiresInputsRunTheHiresFix() throws Exception {
		context.service(PrefService.class).clear(TextToImageCommand.class);
		Map<String, Object> inputs = new HashMap<>(Map.of("prompt", "a red circle", "steps", 2, "seed", 42L, "width",
			64, "height", 64, "scheduler", "DDIM"));
		inputs.put("hires", 1.5);
		inputs.put("hiressteps", 2);
		inputs.put("hiresstrength", 0.5);
		CommandModule m = commands.run(TextToImageCommand.class, true, inputs).get();
		context.service(PrefService.class).clear(TextToImageCommand.class); // the other tests run without the fix
		ImagePlus result = (ImagePlus) m.getOutput("result");
		assertNotNull(result, "cancelled: " + m.getCancelReason());
		assertEquals(96, result.getWidth());
		String parameters = (String) result.getProperty(Generation.PARAMETERS_PROPERTY);
		assertTrue(parameters.endsWith("Denoising strength: 0.5, Hires upscale: 1.5, Hires steps: 2, Hires upscaler: "
			+ "Lanczos"), parameters);
	}
}
