package sc.fiji.sd.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.scijava.Context;
import org.scijava.command.CommandModule;
import org.scijava.command.CommandService;
import org.scijava.prefs.PrefService;

import ij.ImagePlus;
import sc.fiji.sd.ij1.SmallModel;
import sc.fiji.sd.imagej.Generation;
import sc.fiji.sd.imagej.Settings;

/** The Fiji Text to Image command on the SDXL base micro fixture (two text encoders, text_embeds, time_ids). */
class SdxlCommandTest {

	private static Context context;

	@BeforeAll
	static void start() {
		context = new Context();
		context.service(PrefService.class).clear(TextToImageCommand.class);
		context.service(StableDiffusionService.class).apply(new Settings(SmallModel.folder().toString(), "cpu", 0));
	}

	@AfterAll
	static void stop() {
		context.service(PrefService.class).clear(TextToImageCommand.class);
		Settings.defaults().save();
		context.dispose();
	}

	@Test
	void textToImageOnSdxlBase() throws Exception {
		Path sdxl = SmallModel.folder("sdxl-base");
		CommandModule m = context.service(CommandService.class).run(TextToImageCommand.class, true, Map.of("prompt",
			"a red circle", "steps", 2, "seed", 5L, "width", 64, "height", 48, "model", sdxl.toFile(), "device", "cpu"))
			.get();
		ImagePlus result = (ImagePlus) m.getOutput("result");
		assertNotNull(result, "cancelled: " + m.getCancelReason());
		assertEquals(64, result.getWidth());
		assertEquals(48, result.getHeight());
		String parameters = (String) result.getProperty(Generation.PARAMETERS_PROPERTY);
		assertTrue(parameters.contains("Seed: 5, Size: 64x48, Model: sdxl-base"), parameters);
	}
}
