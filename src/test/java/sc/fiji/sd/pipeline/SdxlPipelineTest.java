package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.model.ModelFamily;
import sc.fiji.sd.model.ModelInfo;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.text.PromptChunker;

/** SDXL on the micro fixtures: detection, the two-encoder conditioning, time ids, Turbo without CFG. */
class SdxlPipelineTest {

	private static StableDiffusionModel model(String name) {
		return TestModels.model(name);
	}

	@Test
	void familyAndConditioningDetailsAreDetected() {
		ModelInfo base = model("sdxl-base").info();
		assertEquals(ModelFamily.SDXL_BASE, base.family());
		assertEquals(6, base.sdxl().timeIds());
		assertEquals(8, base.sdxl().pooledWidth());
		assertTrue(base.sdxl().forceZerosForEmptyPrompt());
		assertEquals(10, base.textWidth(), "both encoders' widths side by side");
		assertEquals(0.13025, base.scalingFactor(), 1e-9);
		assertTrue(base.describe().contains("SDXL base"), base.describe());

		ModelInfo refiner = model("sdxl-refiner").info();
		assertEquals(ModelFamily.SDXL_REFINER, refiner.family());
		assertEquals(5, refiner.sdxl().timeIds());
		assertFalse(refiner.sdxl().forceZerosForEmptyPrompt());
		assertEquals(6, refiner.textWidth());
		assertNull(model("sdxl-refiner").textEncoder());

		assertEquals(ModelFamily.SDXL_INPAINTING, model("sdxl-inpaint").info().family());
		assertEquals(9, model("sdxl-inpaint").info().unetInChannels());
		assertEquals(ModelFamily.SDXL_BASE, model("sdxl-turbo").info().family());
		assertFalse(model("embedded").info().isSdxl());
	}

	@Test
	void withoutModelIndexTheUnetInputsSaySdxl(@TempDir Path dir) throws Exception {
		TestModels.copyTree(TestModels.folder("sdxl-base"), dir);
		Files.delete(dir.resolve("model_index.json"));
		try (StableDiffusionModel m = StableDiffusionModel.load(dir, "cpu")) {
			assertEquals(ModelFamily.SDXL_BASE, m.info().family());
			assertTrue(m.info().sdxl().forceZerosForEmptyPrompt(), "diffusers' default");
		}
	}

	@Test
	void secondTokenizerPadsWithExclamationMark() {
		assertEquals(0, model("sdxl-base").tokenizer2().padToken(), "'!' is id 0");
		assertEquals(49407, model("sdxl-base").tokenizer().padToken());
	}

	@Test
	void promptEmbeddingsArePenultimateHiddenStatesConcatenatedAndPooledIsEncoder2sTextEmbeds() {
		StableDiffusionModel m = model("sdxl-base");
		TextEmbeddings text = TextConditioning.forModel(m).encode("a red circle", "blurry", true);
		TextEmbeddings.Embedding hidden = text.inputs().get("encoder_hidden_states");
		TextEmbeddings.Embedding pooled = text.inputs().get("text_embeds");
		assertArrayEquals(new long[] { 77, 10 }, hidden.shape());
		assertArrayEquals(new long[] { 8 }, pooled.shape());

		// each encoder run by hand at its second-to-last layer (2 layers: hidden_states.1)
		TextEncoder one = new TextEncoder(m.textEncoder(), new PromptChunker(m.tokenizer()), "hidden_states.1", 4);
		TextEncoder two = new TextEncoder(m.textEncoder2(), new PromptChunker(m.tokenizer2()), "hidden_states.1", 6);
		int[] ids1 = m.tokenizer().withSpecialTokens(m.tokenizer().encode("a red circle"), true);
		int[] ids2 = m.tokenizer2().withSpecialTokens(m.tokenizer2().encode("a red circle"), true);
		float[] h1 = one.encodeIds(ids1);
		var out2 = two.encodeIds(ids2, Set.of("hidden_states.1", "text_embeds"));
		float[] h2 = out2.get("hidden_states.1");
		for (int t = 0; t < 77; t++) {
			for (int c = 0; c < 4; c++) assertEquals(h1[t * 4 + c], hidden.prompt()[t * 10 + c], 0f);
			for (int c = 0; c < 6; c++) assertEquals(h2[t * 6 + c], hidden.prompt()[t * 10 + 4 + c], 0f);
		}
		assertArrayEquals(out2.get("text_embeds"), pooled.prompt());
		float[] last = two.encodeIds(ids2, Set.of("last_hidden_state")).get("last_hidden_state");
		assertFalse(java.util.Arrays.equals(last, h2), "the penultimate layer, not the last");
		assertFalse(allZero(hidden.negative()));
	}

	@Test
	void emptyNegativePromptIsZerosWhereTheModelForcesIt() {
		TextEmbeddings base = TextConditioning.forModel(model("sdxl-base")).encode("a red circle", "", true);
		assertTrue(allZero(base.inputs().get("encoder_hidden_states").negative()));
		assertTrue(allZero(base.inputs().get("text_embeds").negative()));
		assertFalse(allZero(base.inputs().get("encoder_hidden_states").prompt()));
		// the refiner's model_index says force_zeros_for_empty_prompt false: the empty prompt is encoded
		TextEmbeddings refiner = TextConditioning.forModel(model("sdxl-refiner")).encode("a red circle", "", true);
		assertFalse(allZero(refiner.inputs().get("encoder_hidden_states").negative()));
		assertFalse(allZero(refiner.inputs().get("text_embeds").negative()));
	}

	@Test
	void longPromptsRunInChunksOnBothEncodersAndPoolTheFirst() {
		StableDiffusionModel m = model("sdxl-base");
		String longPrompt = "a red circle on a blue background, ".repeat(12);
		TextEmbeddings text = TextConditioning.forModel(m).encode(longPrompt, "", false);
		assertArrayEquals(new long[] { 154, 10 }, text.inputs().get("encoder_hidden_states").shape());
		PromptChunker chunker = new PromptChunker(m.tokenizer2());
		TextEncoder two = new TextEncoder(m.textEncoder2(), chunker, "hidden_states.1", 6);
		float[] firstChunk = two.encodeIds(chunker.chunk(longPrompt).get(0).inputIds(), Set.of("text_embeds"))
			.get("text_embeds");
		assertArrayEquals(firstChunk, text.inputs().get("text_embeds").prompt());
		assertNull(text.inputs().get("text_embeds").negative());
	}

	@Test
	void weightedPromptsChangeBothEncodersHiddenStates() {
		StableDiffusionModel m = model("sdxl-base");
		float[] plain = TextConditioning.forModel(m).encode("a red circle", "", false).inputs()
			.get("encoder_hidden_states").prompt();
		float[] weighted = TextConditioning.forModel(m).encode("a (red:1.5) circle", "", false).inputs()
			.get("encoder_hidden_states").prompt();
		boolean first = false, second = false;
		for (int i = 0; i < plain.length; i++) {
			if (plain[i] != weighted[i]) {
				if (i % 10 < 4) first = true;
				else second = true;
			}
		}
		assertTrue(first && second);
	}

	@Test
	void timeIdsAreSizeCropTargetOrTheAestheticScore() {
		var base = model("sdxl-base").info().sdxl();
		assertArrayEquals(new float[] { 48, 64, 0, 0, 48, 64 }, SdxlTimeIds.of(base, 64, 48, UnetBatch.Half.PROMPT));
		assertArrayEquals(new float[] { 48, 64, 0, 0, 48, 64 }, SdxlTimeIds.of(base, 64, 48, UnetBatch.Half.NEGATIVE));
		var refiner = model("sdxl-refiner").info().sdxl();
		assertArrayEquals(new float[] { 48, 64, 0, 0, 6f }, SdxlTimeIds.of(refiner, 64, 48, UnetBatch.Half.PROMPT));
		assertArrayEquals(new float[] { 48, 64, 0, 0, 2.5f }, SdxlTimeIds.of(refiner, 64, 48, UnetBatch.Half.NEGATIVE));
	}

	@Test
	void turboRunsWithoutGuidanceFromItsConfig() {
		StableDiffusionPipeline p = TestModels.pipeline("sdxl-turbo");
		long samples = p.unetSamples();
		GenerationResult r = p.generate(GenerationRequest.builder().prompt("a red circle").size(64, 64).steps(1)
			.guidance(0).seed(3).build(), null);
		assertEquals(1, p.unetSamples() - samples, "guidance 0: no unconditional pass");
		PipelineEndToEndTest.assertValidImage(r.images().get(0).pixels(), 64, 64);
	}

	@Test
	void turboTakesOneToFourStepsAt512WithTrailingTimesteps() {
		StableDiffusionModel turbo = model("sdxl-turbo");
		var sampler = DefaultSchedulers.forModel(turbo).create(null, new java.util.SplittableRandom(0));
		assertEquals("Euler a", sampler.displayName(), "its scheduler_config: EulerAncestralDiscreteScheduler");
		sampler.setTimesteps(1);
		assertArrayEquals(new double[] { 999 }, sampler.timesteps());
		sampler.setTimesteps(4);
		assertArrayEquals(new double[] { 999, 749, 499, 249 }, sampler.timesteps());
		for (int steps = 1; steps <= 4; steps++) {
			Plan plan = Plan.of(GenerationRequest.builder().prompt("x").size(512, 512).steps(steps).guidance(0).build(),
				turbo.info());
			assertFalse(plan.cfg);
			assertEquals(512, plan.width);
		}
		StableDiffusionPipeline p = TestModels.pipeline("sdxl-turbo");
		long samples = p.unetSamples();
		GenerationResult r = p.generate(GenerationRequest.builder().prompt("a red circle").size(512, 512).steps(1)
			.guidance(0).seed(3).build(), null);
		assertEquals(1, p.unetSamples() - samples);
		assertEquals(512, r.images().get(0).pixels().dimension(0));
	}

	private static boolean allZero(float[] v) {
		for (float x : v) if (x != 0) return false;
		return true;
	}
}
