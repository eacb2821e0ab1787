package sc.fiji.sd.fiji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
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
import sc.fiji.sd.ij1.Generation;
import sc.fiji.sd.ij1.Settings;
import sc.fiji.sd.ij1.SmallModel;
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
		assertEquals(image.getProperty(Generation.PARAMETERS_PROPERTY), PngReader.readText(file.toPath()).get("parameters"));
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
}
