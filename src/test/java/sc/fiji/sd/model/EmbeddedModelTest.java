package sc.fiji.sd.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedModelTest {

	@TempDir
	Path dir;

	private Path jar(String... entriesAndContents) throws Exception {
		Path jar = dir.resolve("plugin.jar");
		try (OutputStream os = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(os)) {
			for (int i = 0; i < entriesAndContents.length; i += 2) {
				j.putNextEntry(new JarEntry(entriesAndContents[i]));
				j.write(entriesAndContents[i + 1].getBytes());
				j.closeEntry();
			}
		}
		return jar;
	}

	@Test
	void extractsTheModelFromAnInstalledJarOnceAndRepairsWrongSizes() throws Exception {
		Path jar = jar("sc/fiji/sd/X.class", "x", "models/tiny-sd-shapes/unet/model.onnx", "unet-bytes",
			"models/tiny-sd-shapes/model_index.json", "{}");
		Path cache = dir.resolve("cache");
		Path model = EmbeddedModel.extractFromJar(jar, cache);
		assertEquals(cache, model.getParent());
		assertTrue(model.getFileName().toString().startsWith("tiny-sd-shapes-"));
		assertTrue(EmbeddedModel.isModel(model));
		assertEquals("unet-bytes", Files.readString(model.resolve("unet/model.onnx")));
		assertTrue(Files.notExists(model.resolve("sc")), "only the model's entries");

		Path unet = model.resolve("unet/model.onnx");
		var written = Files.getLastModifiedTime(unet);
		Thread.sleep(20);
		EmbeddedModel.extractFromJar(jar, cache);
		assertEquals(written, Files.getLastModifiedTime(unet), "same size: not copied again");

		Files.writeString(unet, "truncated");
		EmbeddedModel.extractFromJar(jar, cache);
		assertEquals("unet-bytes", Files.readString(unet), "wrong size: extracted again");
		try (var files = Files.list(model.resolve("unet"))) {
			assertEquals(1, files.count(), "no temporary files left");
		}

		Path retrained = jar("models/tiny-sd-shapes/unet/model.onnx", "UNET-BYTES", "models/tiny-sd-shapes/model_index.json", "{}");
		Path newModel = EmbeddedModel.extractFromJar(retrained, cache);
		assertTrue(!newModel.equals(model), "same sizes, other content: another folder");
		assertEquals("UNET-BYTES", Files.readString(newModel.resolve("unet/model.onnx")));
	}

	@Test
	void theShippedControlNetIsUnpackedBesideTheModelWhereTheDefaultRuleFindsIt() throws Exception {
		Path jar = jar("models/tiny-sd-shapes/unet/model.onnx", "unet", "models/tiny-sd-shapes/controlnet/model.onnx",
			"controlnet-unet", "models/tiny-sd-shapes-controlnet/model.onnx", "controlnet-bytes");
		Path cache = dir.resolve("cache");
		Path model = EmbeddedModel.extractFromJar(jar, cache);
		assertEquals("controlnet-unet", Files.readString(model.resolve(ControlNetModel.UNET)));
		Path controlNet = ControlNetModel.besideModel(model);
		assertEquals(model.getFileName() + "-controlnet", controlNet.getFileName().toString());
		assertEquals("controlnet-bytes", Files.readString(controlNet.resolve("model.onnx")));
		assertTrue(Files.notExists(model.resolve("model.onnx")), "the ControlNet's files stay in its own folder");

		Path retrained = jar("models/tiny-sd-shapes/unet/model.onnx", "unet", "models/tiny-sd-shapes/controlnet/model.onnx",
			"controlnet-unet", "models/tiny-sd-shapes-controlnet/model.onnx", "CONTROLNET-BYTES");
		Path again = EmbeddedModel.extractFromJar(retrained, cache);
		assertTrue(!again.equals(model), "a retrained ControlNet (same size) is another folder, never the old files");
		assertEquals("CONTROLNET-BYTES", Files.readString(ControlNetModel.besideModel(again).resolve("model.onnx")));
	}

	@Test
	void theControlNetOfTheConfiguredModelIsTheFolderBesideIt() throws Exception {
		String old = System.getProperty("sd.embeddedModel");
		try {
			Path base = Files.createDirectories(dir.resolve("models/tiny-sd-shapes"));
			System.setProperty("sd.embeddedModel", base.toString());
			assertNull(EmbeddedModel.controlNet(), "none shipped: null, not a folder that does not exist");
			Path controlNet = Files.createDirectories(dir.resolve("models/tiny-sd-shapes-controlnet"));
			assertEquals(controlNet, EmbeddedModel.controlNet());
		}
		finally {
			if (old == null) System.clearProperty("sd.embeddedModel");
			else System.setProperty("sd.embeddedModel", old);
		}
	}

	@Test
	void aJarWithoutTheModelGivesNull() throws Exception {
		assertNull(EmbeddedModel.extractFromJar(jar("a.txt", "a"), dir.resolve("cache")));
	}

	@Test
	void thePropertyOverridesTheLookup() {
		String old = System.getProperty("sd.embeddedModel");
		try {
			System.setProperty("sd.embeddedModel", dir.toString());
			assertEquals(dir, EmbeddedModel.path());
		}
		finally {
			if (old == null) System.clearProperty("sd.embeddedModel");
			else System.setProperty("sd.embeddedModel", old);
		}
	}

	@Test
	void aModelsFolderPlantedNextToTheJarOrAboveItIsIgnored() throws Exception {
		Path jar = jar("models/tiny-sd-shapes/unet/model.onnx", "shipped", "models/tiny-sd-shapes/model_index.json", "{}");
		Path planted = dir.resolve("models/tiny-sd-shapes/unet"); // next to plugin.jar (and above the cache)
		Files.createDirectories(planted);
		Files.writeString(planted.resolve("model.onnx"), "planted");
		Path model = EmbeddedModel.fromCodeSource(jar, dir.resolve("cache"));
		assertTrue(model.startsWith(dir.resolve("cache")), model.toString());
		assertEquals("shipped", Files.readString(model.resolve("unet/model.onnx")));
	}
}
