package sc.fiji.sd.ij1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * LoRAs and textual-inversion embeddings from macros, through the real ImageJ 1 macro interpreter (headless,
 * ij1-patcher): the folders set with {@code lora_dir=} and {@code embeddings=} in Stable Diffusion Settings, then
 * {@code <lora:name:weight>} and trigger words in a Text to Image prompt, on the LoRA reference fixture.
 */
class AdaptationsMacroTest {

	private static final Path LORAS = Path.of("src/test/resources/fixtures/lora").toAbsolutePath();
	private static final Path EMBEDDINGS = Path.of("src/test/resources/fixtures/ti/embeddings").toAbsolutePath();
	private static final String REPORT = "function report(key, value) { call(\"java.lang.System.setProperty\", "
		+ "\"sd.test.\" + key, \"\" + value); }\n";

	private static HeadlessImageJ ij;

	@BeforeAll
	static void settings() {
		ij = HeadlessImageJ.shared();
		String printed = ij.runMacro("run(\"Stable Diffusion Settings...\", \"model=[" + SmallModel.folder("lora/base")
			+ "] device=cpu threads=0 lora_dir=[" + LORAS + "] embeddings=[" + EMBEDDINGS + "]\");");
		assertTrue(printed.contains("LoRA folder: " + LORAS) && printed.contains("Embeddings folder: " + EMBEDDINGS),
			printed);
	}

	@AfterAll
	static void back() {
		ij.runMacro("run(\"Stable Diffusion Settings...\", \"model=[] device=cpu threads=0 lora_dir=[] embeddings=[]\");");
	}

	private static String textToImage(String prompt) {
		return "run(\"Text to Image...\", \"prompt=[" + prompt + "] steps=2 seed=3 guidance=12 width=64 height=64\");\n";
	}

	private static String result(String key) {
		return System.getProperty("sd.test." + key);
	}

	/**
	 * Runs {@code prompt}, reports its Info as "info", then {@code other} with the same seed; returns the largest
	 * pixel difference between the two images.
	 */
	private static double differenceBetween(String prompt, String other) {
		String printed = ij.runMacro(REPORT + textToImage(prompt) + "report(\"info\", getMetadata(\"Info\"));\n"
			+ "a = getImageID();\n" + textToImage(other) + "b = getImageID();\n"
			+ "imageCalculator(\"Difference create\", a, b);\n"
			+ "getStatistics(area, mean, min, max);\nreport(\"difference\", max);\nclose(\"*\");\n");
		assertTrue(!printed.contains("Macro Error"), printed);
		return Double.parseDouble(result("difference"));
	}

	@Test
	void aLoraTagChangesThePixelsAndTheInfoNamesItsHash() {
		double d = differenceBetween("a red circle <lora:kohya:1>", "a red circle <lora:kohya:0>");
		assertTrue(result("info").matches("(?s).*a red circle <lora:kohya:1>\n.*, Lora hashes: \"kohya: [0-9a-f]{12}\".*"),
			result("info"));
		assertTrue(d > 0, "weight 1 and weight 0 gave the same pixels");
	}

	@Test
	void aTriggerWordChangesThePixelsAndTheInfoNamesItsHash() {
		double d = differenceBetween("a shapeword circle", "a circle");
		assertTrue(result("info").matches("(?s).*, TI hashes: \"shapeword: [0-9a-f]{12}\".*"), result("info"));
		assertTrue(d > 0, "the embedding changed nothing");
	}

	@Test
	void aLoraNameNotInTheFolderListsWhatIsThere() {
		String printed = ij.runMacro(textToImage("a red circle <lora:purple:1>"));
		assertTrue(printed.contains("No LoRA named 'purple'") && printed.contains("kohya, peft"), printed);
	}

	@Test
	void anEmbeddingOfAnotherWidthIsRefusedNamingBothWidths() {
		String printed = ij.runMacro(textToImage("a wide circle"));
		assertTrue(printed.contains("'wide'") && printed.contains("width 8") && printed.contains("width 4"), printed);
	}

	@Test
	void aLoraFolderThatDoesNotExistIsNamed() {
		String printed = ij.runMacro("run(\"Stable Diffusion Settings...\", \"lora_dir=[/no/such/loras]\");");
		assertTrue(printed.contains("/no/such/loras does not exist"), printed);
		assertEquals(LORAS.toString(), settingsValue("lora"), "the settings are kept");
	}

	private static String settingsValue(String key) {
		ij.runMacro(REPORT + "report(\"pref\", call(\"ij.Prefs.get\", \"stable.diffusion." + key + "\", \"\"));");
		return result("pref");
	}
}
