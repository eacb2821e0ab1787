package sc.fiji.sd.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
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

/**
 * The Fiji commands with LoRAs and embeddings: the folders in the Settings command (saved, recorded as
 * {@code lora_dir=} and {@code embeddings=}), {@code <lora:name:weight>} and trigger words in a prompt, their hashes
 * in the parameters, and what goes wrong said in words.
 */
class AdaptationsCommandTest {

	private static final File LORAS = new File("src/test/resources/fixtures/lora").getAbsoluteFile();
	private static final File EMBEDDINGS = new File("src/test/resources/fixtures/ti/embeddings").getAbsoluteFile();

	private static Context context;
	private static CommandService commands;

	@BeforeAll
	static void start() throws Exception {
		context = new Context();
		commands = context.service(CommandService.class);
		context.service(PrefService.class).clear(TextToImageCommand.class);
		CommandModule m = commands.run(SettingsCommand.class, true, Map.of("model", SmallModel.folder("lora/base")
			.toFile(), "device", "cpu", "threads", 0, "lora_dir", LORAS, "embeddings", EMBEDDINGS)).get();
		assertFalse(m.isCanceled(), m.getCancelReason());
		String text = (String) m.getOutput("diagnostics");
		assertTrue(text.contains("LoRA folder: " + LORAS) && text.contains("Embeddings folder: " + EMBEDDINGS), text);
		assertTrue(text.contains("shapeword (A1111, 2 vectors)") && text.contains("not usable: wide: its vectors have "
			+ "width 8") && text.contains("not usable: pickled: it could not be loaded"), text);
	}

	@AfterAll
	static void stop() {
		context.service(PrefService.class).clear(TextToImageCommand.class);
		Settings.defaults().save();
		context.dispose();
	}

	private static CommandModule textToImage(String prompt) throws Exception {
		return commands.run(TextToImageCommand.class, true, Map.of("prompt", prompt, "steps", 2, "seed", 4L,
			"guidance", 12.0, "width", 64, "height", 64)).get();
	}

	private static int[] pixels(CommandModule m) {
		ImagePlus result = (ImagePlus) m.getOutput("result");
		assertNotNull(result, "cancelled: " + m.getCancelReason());
		return (int[]) result.getProcessor().getPixels();
	}

	@Test
	void theFoldersAreSavedInTheSettingsSharedWithImageJ1() {
		Settings saved = Settings.load();
		assertEquals(LORAS.getPath(), saved.loraFolder());
		assertEquals(EMBEDDINGS.getPath(), saved.embeddingsFolder());
	}

	@Test
	void aLoraAndATriggerWordAreAppliedAndTheirHashesRecorded() throws Exception {
		CommandModule both = textToImage("a shapeword circle <lora:peft:0.8>");
		int[] adapted = pixels(both);
		String parameters = (String) ((ImagePlus) both.getOutput("result")).getProperty(Generation.PARAMETERS_PROPERTY);
		assertTrue(parameters.matches("(?s)a shapeword circle <lora:peft:0.8>\n.*, Lora hashes: \"peft: [0-9a-f]{12}\", "
			+ "TI hashes: \"shapeword: [0-9a-f]{12}\""), parameters);
		assertTrue(((ImagePlus) both.getOutput("result")).getInfoProperty().contains("TI hashes"), "Info shows them");
		assertFalse(java.util.Arrays.equals(adapted, pixels(textToImage("a shapeword circle"))), "the LoRA did nothing");
		assertFalse(java.util.Arrays.equals(adapted, pixels(textToImage("a circle <lora:peft:0.8>"))),
			"the embedding did nothing");
	}

	@Test
	void aLoraNameNotInTheFolderListsWhatIsThere() throws Exception {
		CommandModule m = textToImage("a circle <lora:purple:1>");
		assertTrue(m.isCanceled());
		assertTrue(m.getCancelReason().contains("No LoRA named 'purple'") && m.getCancelReason().contains("kohya, peft"),
			m.getCancelReason());
	}

	@Test
	void anEmbeddingOfAnotherWidthIsRefusedNamingBothWidths() throws Exception {
		CommandModule m = textToImage("a (wide:1.2) circle");
		assertTrue(m.isCanceled());
		assertTrue(m.getCancelReason().contains("'wide'") && m.getCancelReason().contains("width 8")
			&& m.getCancelReason().contains("width 4"), m.getCancelReason());
	}

	@Test
	void anEmbeddingsFolderThatDoesNotExistIsNamed() throws Exception {
		Path nowhere = Path.of("/no/such/embeddings");
		CommandModule m = commands.run(SettingsCommand.class, true, Map.of("model", SmallModel.folder("lora/base")
			.toFile(), "device", "cpu", "threads", 0, "lora_dir", LORAS, "embeddings", nowhere.toFile())).get();
		assertTrue(m.isCanceled());
		assertTrue(m.getCancelReason().contains(nowhere + " does not exist"), m.getCancelReason());
		assertEquals(EMBEDDINGS.getPath(), Settings.load().embeddingsFolder(), "the saved settings are kept");
	}
}
