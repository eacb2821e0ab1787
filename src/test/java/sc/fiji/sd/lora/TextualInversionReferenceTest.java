package sc.fiji.sd.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.InitializerOverrides;
import sc.fiji.sd.onnx.RuntimeOptions;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.StableDiffusionPipeline;
import sc.fiji.sd.pipeline.TestModels;

/**
 * Base model + textual-inversion embeddings at run time gives the image of the model whose token table holds the same
 * vectors in the rows of stand-in words ({@code tools/model/make_ti_fixture.py}): A1111 ({@code emb_params},
 * {@code string_to_param}), diffusers (token key, also its trigger) and SDXL ({@code clip_l}) layouts, several
 * vectors, prompt weighting, the negative prompt, and the fixture's fp16 token table behind a Cast.
 */
class TextualInversionReferenceTest {

	static final Path FIXTURE = Path.of("src/test/resources/fixtures/ti");
	private static final double TOLERANCE = 2 / 255.0;

	@TempDir
	static Path tmp;
	private static Path base, reference;

	@BeforeAll
	static void folders() throws IOException {
		base = tmp.resolve("base");
		TestModels.copyTree(LoraReferenceTest.FIXTURE.resolve("base"), base);
		TestModels.copyTree(Path.of("models", EmbeddedModel.NAME, "tokenizer"), base.resolve("tokenizer"));
		reference = tmp.resolve("reference");
		TestModels.copyTree(base, reference);
		TestModels.copyTree(FIXTURE.resolve("reference"), reference);
	}

	static Img<FloatType> image(Path folder, InitializerOverrides overrides, String prompt, String negative) {
		try (StableDiffusionModel model = StableDiffusionModel.load(folder, RuntimeOptions.DEFAULTS.withDevice(Device.CPU),
			overrides))
		{
			var request = GenerationRequest.builder().prompt(prompt).negativePrompt(negative).size(64, 64).steps(3)
				.seed(7).guidance(15).build();
			return new StableDiffusionPipeline(model).generate(request, null).images().get(0).pixels();
		}
	}

	static EmbeddingSet embeddings() {
		return new EmbeddingSet(EmbeddingSpec.ofFolder(FIXTURE.resolve("embeddings")));
	}

	@Test
	void embeddingsEqualTheirVectorsWrittenIntoTheTokenTable() throws IOException {
		var cases = JsonParser.parseString(Files.readString(FIXTURE.resolve("prompts.json"))).getAsJsonArray();
		assertEquals(3, cases.size());
		for (var c : cases) {
			JsonObject o = c.getAsJsonObject();
			String prompt = o.get("prompt").getAsString(), negative = o.get("negative").getAsString();
			Img<FloatType> ours = image(base, embeddings(), prompt, negative);
			Img<FloatType> ref = image(reference, InitializerOverrides.NONE, o.get("reference_prompt").getAsString(),
				o.get("reference_negative").getAsString());
			Img<FloatType> plain = image(base, InitializerOverrides.NONE, prompt, negative);
			assertTrue(LoraReferenceTest.maxDifference(plain, ref) > 10 * TOLERANCE, "the embeddings must change the "
				+ "image for the comparison to mean anything: " + prompt);
			double d = LoraReferenceTest.maxDifference(ours, ref);
			assertTrue(d <= TOLERANCE, "'" + prompt + "' with embeddings differs from the reference by " + d * 255 + "/255");
		}
	}

	@Test
	void aWordOfAnotherWidthIsRefusedNamingBothWidths() {
		var e = assertThrows(StableDiffusionException.class, () -> image(base, embeddings(), "a wide circle", ""));
		assertTrue(e.getMessage().contains("'wide'") && e.getMessage().contains("width 8")
			&& e.getMessage().contains("width 4"), e.getMessage());
	}

	@Test
	void aPickleFileIsRefusedWhenItsWordIsUsedAndIgnoredOtherwise() {
		var e = assertThrows(StableDiffusionException.class, () -> image(base, embeddings(), "a pickled circle", ""));
		assertTrue(e.getMessage().contains("pickle"), e.getMessage());
		image(base, embeddings(), "a circle", ""); // the other files still load
	}

	@Test
	void tiHashesAreTheFirst12HexOfTheFilesSha256ForTheWordsUsed() throws Exception {
		try (EmbeddingSet set = embeddings();
			StableDiffusionModel model = StableDiffusionModel.load(base, RuntimeOptions.DEFAULTS.withDevice(Device.CPU), set))
		{
			var words = model.triggerWords();
			var used = new java.util.LinkedHashSet<>(words.usedIn("a shapeword circle", model.tokenizer()));
			used.addAll(words.usedIn("(<blob>:1.2)", model.tokenizer()));
			assertEquals(List.of("shapeword", "learned_embeds"), List.copyOf(used));
			var sha = java.security.MessageDigest.getInstance("SHA-256");
			String expected = java.util.HexFormat.of().formatHex(sha.digest(Files.readAllBytes(FIXTURE.resolve(
				"embeddings/shapeword.safetensors")))).substring(0, 12);
			String hashes = set.hashes(used);
			assertTrue(hashes.startsWith("shapeword: ") && hashes.contains(", learned_embeds: "), hashes);
			assertTrue(hashes.contains("shapeword: " + expected), hashes);
			assertEquals("Steps: 3, TI hashes: \"" + hashes + "\"", EmbeddingSet.withHashes("Steps: 3", hashes));
		}
	}
}
