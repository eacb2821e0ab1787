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

	/**
	 * A manifest's ControlNet columns from a macro (the keys of Text to Image): a named ControlNet, none, and the one
	 * beside the row's model (as the embedded model's shipped ControlNet is found), on the split-layout fixtures.
	 */
	@Test
	void controlColumnsRunFromAMacro() throws Exception {
		Path base = sc.fiji.sd.pipeline.TestModels.folder("controlnet").toAbsolutePath();
		Path shipped = sc.fiji.sd.pipeline.TestModels.embeddedWithControlNet(dir.resolve("shipped"));
		Path controlNet = sc.fiji.sd.pipeline.TestModels.controlNet("controlnet-scale").toAbsolutePath();
		float[] square = new float[64 * 64 * 3];
		for (int c = 0; c < 3; c++)
			for (int y = 16; y < 48; y++)
				for (int x = 20; x < 44; x++)
					square[c * 64 * 64 + y * 64 + x] = 1;
		sc.fiji.sd.provenance.PngWriter.write(dir.resolve("square.png"), net.imglib2.img.array.ArrayImgs.floats(square, 64,
			64, 3), java.util.Map.of());
		Path manifest = dir.resolve("m.csv"), out = dir.resolve("out");
		String row = "a red circle,3,2,64,64,DDIM,";
		Files.writeString(manifest, "prompt,seed,steps,width,height,scheduler,model,control,controlnet,control_scale\n"
			+ row + base + ",square.png," + controlNet + ",0.9\n"
			+ row + base + ",,,\n"
			+ row + shipped + ",square.png,,0.9\n");
		String macro = "r = call(\"sc.fiji.sd.ij1.BatchMacro.run\", \"" + manifest + "\", \"" + out + "\", \"\");\n"
			+ "call(\"java.lang.System.setProperty\", \"sd.test.batch\", r);\n";
		HeadlessImageJ.shared().runMacro(macro);
		assertEquals("3 rows generated (3 images), 0 skipped as done; results: " + out.resolve("results.jsonl"),
			System.getProperty("sd.test.batch"));
		String named = sc.fiji.sd.provenance.PngReader.readText(out.resolve("row0000-img00.png")).get("parameters");
		String none = sc.fiji.sd.provenance.PngReader.readText(out.resolve("row0001-img00.png")).get("parameters");
		String beside = sc.fiji.sd.provenance.PngReader.readText(out.resolve("row0002-img00.png")).get("parameters");
		assertTrue(named.contains("ControlNet 0: \"Module: none, Model: controlnet-scale, Weight: 0.9"), named);
		assertTrue(!none.contains("ControlNet"), none);
		assertTrue(beside.contains("ControlNet 0: \"Module: none, Model: tiny-sd-shapes-controlnet, Weight: 0.9"), beside);
		assertTrue(!java.util.Arrays.equals(pixels(out.resolve("row0000-img00.png")), pixels(out.resolve(
			"row0001-img00.png"))), "the ControlNet changes the image");
		assertTrue(java.util.Arrays.equals(pixels(out.resolve("row0000-img00.png")), pixels(out.resolve(
			"row0002-img00.png"))), "the ControlNet beside the model is the same as when named");

		Files.writeString(manifest, "prompt,steps,model,control\na,2," + base + ",square.png\n");
		HeadlessImageJ.shared().runMacro(macro.replace(out.toString(), dir.resolve("out2").toString()));
		String error = System.getProperty("sd.test.batch");
		assertTrue(error.startsWith("error: No ControlNet for 1 row(s); nothing was generated") && error.contains(
			"looked for " + base + "-controlnet"), error);
	}

	private static byte[] pixels(Path png) throws java.io.IOException {
		var img = javax.imageio.ImageIO.read(png.toFile());
		return ((java.awt.image.DataBufferByte) img.getRaster().getDataBuffer()).getData();
	}
}
