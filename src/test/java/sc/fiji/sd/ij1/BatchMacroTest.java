package sc.fiji.sd.ij1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.model.EmbeddedModel;

/** The batch engine from the ImageJ 1 macro language, as the README shows it (call(...) with text in and out). */
class BatchMacroTest {

	@TempDir
	Path dir;

	@Test
	void aManifestRunsFromAMacroAndResumes() throws Exception {
		Path manifest = dir.resolve("m.jsonl"), out = dir.resolve("out");
		String model = EmbeddedModel.path().toString().replace("\\", "\\\\").replace("\"", "\\\"");
		Files.writeString(manifest, "{\"prompt\": \"a red circle\", \"seed\": 1, \"steps\": 2, \"model\": \"" + model + "\"}\n"
			+ "{\"prompt\": \"a blue square\", \"seed\": 2, \"steps\": 2, \"count\": 2, \"model\": \"" + model + "\"}\n");
		String macro = "r = call(\"sc.fiji.sd.ij1.BatchMacro.run\", \"" + manifest + "\", \"" + out + "\", \"\");\n"
			+ "call(\"java.lang.System.setProperty\", \"sd.test.batch\", r);\n";
		HeadlessImageJ ij = HeadlessImageJ.shared();
		ij.runMacro(macro);
		assertEquals("2 rows generated (3 images), 0 skipped as done; results: " + out.resolve("results.jsonl"),
			System.getProperty("sd.test.batch"));
		assertTrue(Files.exists(out.resolve("row0001-img01.png")));
		ij.runMacro(macro);
		assertTrue(System.getProperty("sd.test.batch").startsWith("0 rows generated (0 images), 2 skipped"));

		ij.runMacro("r = call(\"sc.fiji.sd.ij1.BatchMacro.run\", \"" + dir.resolve("none.csv") + "\", \"" + out
			+ "\", \"\");\ncall(\"java.lang.System.setProperty\", \"sd.test.batch\", r);\n");
		assertTrue(System.getProperty("sd.test.batch").startsWith("error: Cannot read the manifest"),
			System.getProperty("sd.test.batch"));
	}
}
