package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.lora.EmbeddingSpec;
import sc.fiji.sd.lora.LoraSpec;
import sc.fiji.sd.model.ModelProvider;
import sc.fiji.sd.onnx.RuntimeOptions;
import sc.fiji.sd.pipeline.TestModels;
import sc.fiji.sd.provenance.PngReader;

/** --embeddings DIR: trigger words in prompt and negative prompt, TI hashes, bad input, sessions cached by the set. */
class CliEmbeddingsTest {

	static final Path EMBEDDINGS = Path.of("src/test/resources/fixtures/ti/embeddings");

	@TempDir
	static Path dir;
	/** The LoRA fixture's base model (width 4), made complete with the shipped tokenizer. */
	static final Path MODEL = TestModels.folder("lora/base");

	@AfterAll
	static void release() {
		CliRun.MODELS.release();
	}

	/** txt2img on the fixture at guidance 12 (the random model's text effect is small), then {@code more}. */
	private static CliRun txt2img(Path out, String prompt, String... more) {
		String[] common = { "txt2img", "--model", MODEL.toString(), "--device", "cpu", "--steps", "2", "--seed", "3",
			"--guidance", "12", "--output", out.toString(), "--prompt", prompt };
		return CliRun.of(java.util.stream.Stream.concat(java.util.Arrays.stream(common), java.util.Arrays.stream(more))
			.toArray(String[]::new));
	}

	@Test
	void triggerWordsAreAppliedAndTheirHashesRecorded() throws Exception {
		Path with = dir.resolve("with.png"), without = dir.resolve("without.png");
		CliRun r = txt2img(with, "a shapeword circle", "--negative", "(<blob>:1.2)", "--embeddings",
			EMBEDDINGS.toString());
		assertEquals(0, r.exitCode(), r.err());
		String parameters = PngReader.readText(with).get("parameters");
		assertTrue(parameters.matches("(?s).*, TI hashes: \"shapeword: [0-9a-f]{12}, learned_embeds: [0-9a-f]{12}\".*"),
			parameters);
		assertEquals(0, txt2img(without, "a shapeword circle", "--negative", "(<blob>:1.2)").exitCode());
		assertFalse(PngReader.readText(without).get("parameters").contains("TI hashes"));
		assertFalse(java.util.Arrays.equals(Files.readAllBytes(with), Files.readAllBytes(without)),
			"the embeddings changed nothing");
	}

	@Test
	void aWordOfAnotherWidthIsAUsageErrorNamingBothWidths() {
		CliRun r = txt2img(dir.resolve("x.png"), "a wide circle", "--embeddings", EMBEDDINGS.toString());
		assertEquals(2, r.exitCode(), r.err());
		assertTrue(r.cleanError() && r.err().contains("'wide'") && r.err().contains("width 8")
			&& r.err().contains("width 4"), r.err());
	}

	@Test
	void aMissingFolderIsAUsageError() {
		CliRun r = txt2img(dir.resolve("x.png"), "a circle", "--embeddings", dir.resolve("nope").toString());
		assertEquals(2, r.exitCode(), r.err());
		assertTrue(r.cleanError() && r.err().contains("does not exist"), r.err());
	}

	@Test
	void sessionsAreCachedByEmbeddings() {
		try (ModelProvider cache = new ModelProvider()) {
			RuntimeOptions cpu = RuntimeOptions.DEFAULTS.withDevice(sc.fiji.sd.onnx.ExecutionProviders.Device.CPU);
			var first = cache.get(MODEL, cpu, LoraSpec.NONE, EmbeddingSpec.ofFolder(EMBEDDINGS));
			assertSame(first, cache.get(MODEL, cpu, LoraSpec.NONE, EmbeddingSpec.ofFolder(EMBEDDINGS)));
			assertNotSame(first, cache.get(MODEL, cpu, LoraSpec.NONE, EmbeddingSpec.NONE));
		}
	}
}
