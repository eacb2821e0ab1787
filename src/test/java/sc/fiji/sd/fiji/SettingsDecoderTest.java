package sc.fiji.sd.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.scijava.Context;
import org.scijava.command.CommandModule;
import org.scijava.command.CommandService;
import org.scijava.prefs.PrefService;

import ij.ImagePlus;
import sc.fiji.sd.imagej.DecoderSettings;
import sc.fiji.sd.imagej.Settings;

/** Settings' tiny decoder entry: saved for the ImageJ layer, checked, and used for the final images on request. */
class SettingsDecoderTest {

	private static final String SHIPPED = "models/tiny-sd-shapes-taesd";

	private Context context;
	private CommandService commands;

	@BeforeEach
	void start() {
		context = new Context();
		commands = context.service(CommandService.class);
		context.service(PrefService.class).clear(TextToImageCommand.class);
	}

	@AfterEach
	void stop() {
		new DecoderSettings("", false).save();
		Settings.defaults().save();
		context.service(PrefService.class).clear(TextToImageCommand.class);
		context.dispose();
	}

	private CommandModule settings(String decoder, boolean tinyfinal) throws Exception {
		return commands.run(SettingsCommand.class, true, Map.of("model", new File(""), "device", "cpu", "threads", 0,
			"decoder", new File(decoder), "tinyfinal", tinyfinal)).get();
	}

	private int[] textToImage() throws Exception {
		CommandModule m = commands.run(TextToImageCommand.class, true, Map.of("prompt", "a red circle", "steps", 2,
			"seed", 3L, "device", "cpu")).get();
		ImagePlus result = (ImagePlus) m.getOutput("result");
		assertNotNull(result, "cancelled: " + m.getCancelReason());
		return (int[]) result.getProcessor().getPixels();
	}

	@Test
	void theFinalImagesUseTheDecoderOnlyWhenAsked() throws Exception {
		assertFalse(settings(SHIPPED, false).isCanceled());
		assertEquals(new DecoderSettings(SHIPPED, false), DecoderSettings.load());
		int[] previewOnly = textToImage();
		assertFalse(settings("", false).isCanceled());
		int[] vae = textToImage();
		assertTrue(java.util.Arrays.equals(vae, previewOnly), "a preview decoder leaves the image alone");
		assertFalse(settings(SHIPPED, true).isCanceled());
		assertEquals(new DecoderSettings(SHIPPED, true), DecoderSettings.load());
		assertFalse(java.util.Arrays.equals(vae, textToImage()), "decoded by the tiny decoder");
	}

	@Test
	void aFolderWithoutADecoderCancelsAndKeepsTheSavedOne() throws Exception {
		assertFalse(settings(SHIPPED, false).isCanceled());
		CommandModule m = settings("models/tiny-sd-shapes", true); // a whole model, not a tiny decoder
		assertTrue(m.isCanceled());
		assertTrue(m.getCancelReason().contains("full VAE (AutoencoderKL), not a tiny decoder"), m.getCancelReason());
		assertEquals(new DecoderSettings(SHIPPED, false), DecoderSettings.load());
	}
}
