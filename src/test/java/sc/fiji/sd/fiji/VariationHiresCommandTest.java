package sc.fiji.sd.fiji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.scijava.Context;
import org.scijava.command.CommandModule;
import org.scijava.command.CommandService;
import org.scijava.prefs.PrefService;

import ij.ImagePlus;
import sc.fiji.sd.ij1.Generation;
import sc.fiji.sd.ij1.Settings;
import sc.fiji.sd.ij1.SmallModel;

/**
 * Text to Image's {@code subseed} and {@code variation} inputs on a small model: written into the parameters, a
 * drawn subseed written back into the input (what the macro recorder records), and that value replays the pixels;
 * {@code hires hiressteps hiresstrength} run the hires fix.
 */
class VariationHiresCommandTest {

	private static Context context;
	private static CommandService commands;

	@BeforeAll
	static void start() {
		context = new Context();
		commands = context.service(CommandService.class);
		context.service(PrefService.class).clear(TextToImageCommand.class);
		context.service(StableDiffusionService.class).apply(new Settings(SmallModel.folder().toString(), "cpu", 0));
	}

	/** Inputs persist between runs (as in Fiji): each test starts from the defaults. */
	@BeforeEach
	void clearPersistedInputs() {
		context.service(PrefService.class).clear(TextToImageCommand.class);
	}

	@AfterAll
	static void stop() {
		context.service(PrefService.class).clear(TextToImageCommand.class);
		Settings.defaults().save();
		context.dispose();
	}

	private static CommandModule textToImage(long subseed, double variation) throws Exception {
		Map<String, Object> inputs = new HashMap<>(Map.of("prompt", "a red circle", "steps", 2, "seed", 42L, "width",
			64, "height", 64, "scheduler", "DDIM"));
		inputs.put("subseed", subseed);
		inputs.put("variation", variation);
		CommandModule m = commands.run(TextToImageCommand.class, true, inputs).get();
		assertNotNull(m.getOutput("result"), "cancelled: " + m.getCancelReason());
		return m;
	}

	private static int[] pixels(CommandModule m) {
		return (int[]) ((ImagePlus) m.getOutput("result")).getProcessor().getPixels();
	}

	@Test
	void drawnSubseedIsRecordedAndReplays() throws Exception {
		CommandModule drawn = textToImage(-1, 0.5);
		long subseed = (Long) drawn.getInput("subseed");
		assertTrue(subseed >= 0, "the drawn subseed is written back for the recorder: " + subseed);
		String parameters = (String) ((ImagePlus) drawn.getOutput("result")).getProperty(Generation.PARAMETERS_PROPERTY);
		assertTrue(parameters.endsWith("Variation seed: " + subseed + ", Variation seed strength: 0.5"), parameters);
		assertArrayEquals(pixels(drawn), pixels(textToImage(subseed, 0.5)));
		assertFalse(java.util.Arrays.equals(pixels(drawn), pixels(textToImage(subseed, 0))));
		assertEquals(-1L, textToImage(-1, 0).getInput("subseed"), "no subseed drawn while variations are off");
	}

	@Test
	void hiresInputsRunTheHiresFix() throws Exception {
		Map<String, Object> inputs = new HashMap<>(Map.of("prompt", "a red circle", "steps", 2, "seed", 42L, "width",
			64, "height", 64, "scheduler", "DDIM"));
		inputs.put("hires", 1.5);
		inputs.put("hiressteps", 2);
		inputs.put("hiresstrength", 0.5);
		CommandModule m = commands.run(TextToImageCommand.class, true, inputs).get();
		ImagePlus result = (ImagePlus) m.getOutput("result");
		assertNotNull(result, "cancelled: " + m.getCancelReason());
		assertEquals(96, result.getWidth());
		String parameters = (String) result.getProperty(Generation.PARAMETERS_PROPERTY);
		assertTrue(parameters.endsWith("Denoising strength: 0.5, Hires upscale: 1.5, Hires steps: 2, Hires upscaler: "
			+ "Lanczos"), parameters);
	}
}
