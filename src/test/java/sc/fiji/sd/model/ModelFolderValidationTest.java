package sc.fiji.sd.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.StableDiffusionException;

/** Every way a model folder can be wrong gives a message that names the problem and what a folder must contain. */
class ModelFolderValidationTest {

	@TempDir
	Path dir;

	private String failure(Path folder) {
		return assertThrows(StableDiffusionException.class, () -> StableDiffusionModel.load(folder, "cpu")).getMessage();
	}

	private static void touch(Path p) throws Exception {
		Files.createDirectories(p.getParent());
		Files.writeString(p, "{}");
	}

	@Test
	void missingFolder() {
		String m = failure(dir.resolve("nope"));
		assertTrue(m.contains("does not exist"), m);
		assertTrue(m.contains("unet/model.onnx"), m);
	}

	@Test
	void aFileInsteadOfAFolder() throws Exception {
		Path f = dir.resolve("model.onnx");
		touch(f);
		assertTrue(failure(f).contains("is a file, not a model folder"));
	}

	@Test
	void notAStableDiffusionExport() throws Exception {
		touch(dir.resolve("some.txt"));
		String m = failure(dir);
		assertTrue(m.contains("is not a Stable Diffusion ONNX export"), m);
		touch(dir.resolve("v1-5-pruned.safetensors"));
		assertTrue(failure(dir).contains("convert the checkpoint"), m);
	}

	@Test
	void incompleteFolderNamesTheMissingFile() throws Exception {
		touch(dir.resolve("model_index.json"));
		touch(dir.resolve("text_encoder/model.onnx"));
		String m = failure(dir);
		assertTrue(m.contains("incomplete: unet/model.onnx is missing"), m);
		touch(dir.resolve("unet/model.onnx"));
		touch(dir.resolve("vae_decoder/model.onnx"));
		assertTrue(failure(dir).contains("tokenizer/vocab.json is missing"));
	}

	@Test
	void incompleteSdxlFolderNamesItsMissingFiles() throws Exception {
		touch(dir.resolve("model_index.json"));
		Files.createDirectories(dir.resolve("text_encoder_2"));
		touch(dir.resolve("unet/model.onnx"));
		touch(dir.resolve("vae_decoder/model.onnx"));
		String m = failure(dir);
		assertTrue(m.contains("text_encoder_2/model.onnx is missing"), m);
		touch(dir.resolve("text_encoder_2/model.onnx"));
		m = failure(dir);
		assertTrue(m.contains("tokenizer_2/vocab.json is missing"), m);
		touch(dir.resolve("tokenizer_2/vocab.json"));
		touch(dir.resolve("tokenizer_2/merges.txt"));
		// the refiner's layout: no first encoder needed; with a text_encoder/ folder, its files are
		Files.createDirectories(dir.resolve("text_encoder"));
		m = failure(dir);
		assertTrue(m.contains("text_encoder/model.onnx is missing"), m);
	}

	@Test
	void brokenJsonIsNamed() throws Exception {
		Path f = dir.resolve("model_index.json");
		Files.writeString(f, "{ not json");
		var e = assertThrows(StableDiffusionException.class, () -> StableDiffusionModel.readJson(f));
		assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
		assertTrue(StableDiffusionModel.readJson(dir.resolve("absent.json")).size() == 0);
	}
}
