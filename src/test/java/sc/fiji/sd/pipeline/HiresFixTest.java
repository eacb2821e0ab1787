package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import sc.fiji.sd.StableDiffusionException;

/** A1111's hires fix on the embedded model: 64×64 first pass → 128×128, parameters text, replay, strength 0. */
class HiresFixTest {

	private static final StableDiffusionPipeline PIPELINE = TestModels.pipeline("embedded");
	private static final String MODEL = PIPELINE.model().info().name();

	private static GenerationRequest.Builder request() {
		return GenerationRequest.builder().prompt("a red circle").size(64, 64).steps(4).scheduler("DDIM").seed(5);
	}

	@Test
	void upscalesAndWritesA1111sKeys() {
		GeneratedImage image = HiresFix.generate(PIPELINE, request().build(),
			new HiresFix.Options(2, 3, 0.5, "lanczos"), null).images().get(0);
		assertEquals(128, image.pixels().dimension(0));
		assertEquals(128, image.pixels().dimension(1));
		assertEquals(5, image.seed());
		assertTrue(image.parameters().endsWith(", Seed: 5, Size: 64x64, Model: " + MODEL + ", Denoising strength: 0.5, "
			+ "Hires upscale: 2, Hires steps: 3, Hires upscaler: Lanczos"), image.parameters());
		// hires steps 0 (the same as steps) is not written, as A1111
		GeneratedImage sameSteps = HiresFix.generate(PIPELINE, request().build(),
			new HiresFix.Options(1.5, 0, 0.5, "Nearest"), null).images().get(0);
		assertEquals(96, sameSteps.pixels().dimension(0));
		assertTrue(sameSteps.parameters().endsWith("Denoising strength: 0.5, Hires upscale: 1.5, Hires upscaler: Nearest"),
			sameSteps.parameters());
	}

	/** Every image of a batch (with variation seeds, and a stochastic sampler) replays from its parameters text. */
	@Test
	void replaysFromTheParametersText() {
		List<GeneratedImage> batch = HiresFix.generate(PIPELINE, request().scheduler("Euler a").variationSeed(9)
			.variationStrength(0.4).batchSize(2).build(), new HiresFix.Options(2, 2, 0.6, HiresFix.LANCZOS), null)
			.images();
		assertEquals(2, batch.size());
		for (GeneratedImage original : batch) {
			String text = original.parameters();
			GenerationResult again = HiresFix.generate(PIPELINE, ParametersReplay.builder(text).build(),
				HiresFix.options(text), null);
			assertEquals(text, again.images().get(0).parameters());
			assertTrue(PipelineEndToEndTest.samePixels(original.pixels(), again.images().get(0).pixels()), text);
		}
		assertTrue(batch.get(1).parameters().contains("Variation seed: 10,"));
	}

	@Test
	void strengthZeroIsTheUpscaledFirstPassExactly() {
		GeneratedImage low = PIPELINE.generate(request().build(), null).images().get(0);
		GeneratedImage high = HiresFix.generate(PIPELINE, request().build(), new HiresFix.Options(2, 0, 0, "Lanczos"),
			null).images().get(0);
		assertTrue(PipelineEndToEndTest.samePixels(HiresFix.upscale(low.pixels(), 128, 128, HiresFix.LANCZOS),
			high.pixels()));
		GeneratedImage denoised = HiresFix.generate(PIPELINE, request().build(),
			new HiresFix.Options(2, 0, 0.5, "Lanczos"), null).images().get(0);
		assertFalse(PipelineEndToEndTest.samePixels(high.pixels(), denoised.pixels()), "strength 0.5 changes the image");
	}

	@Test
	void scaleOneIsThePlainRun() {
		GeneratedImage plain = PIPELINE.generate(request().build(), null).images().get(0);
		GeneratedImage off = HiresFix.generate(PIPELINE, request().build(), HiresFix.Options.OFF, null).images().get(0);
		assertTrue(PipelineEndToEndTest.samePixels(plain.pixels(), off.pixels()));
		assertEquals(plain.parameters(), off.parameters());
		assertEquals(HiresFix.Options.OFF, HiresFix.options(plain.parameters()));
	}

	@Test
	void badValuesAreRefusedBeforeAnyWork() {
		assertRefused(new HiresFix.Options(0.5, 0, 0.5, "Lanczos"), "Hires upscale must be between 1 (off) and 4");
		assertRefused(new HiresFix.Options(5, 0, 0.5, "Lanczos"), "Hires upscale must be between 1 (off) and 4");
		assertRefused(new HiresFix.Options(Double.NaN, 0, 0.5, "Lanczos"), "Hires upscale must be");
		assertRefused(new HiresFix.Options(2, -1, 0.5, "Lanczos"), "Hires steps must be between 0");
		assertRefused(new HiresFix.Options(2, 0, 1.5, "Lanczos"), "Hires denoising strength must be between 0 and 1");
		assertRefused(new HiresFix.Options(2, 0, 0.5, "Latent"), "Unknown hires upscaler \"Latent\"");
		long calls = PIPELINE.unetCalls();
		var e = assertThrows(StableDiffusionException.class, () -> HiresFix.generate(PIPELINE,
			request().size(2048, 2048).build(), new HiresFix.Options(2.5, 0, 0.5, "Lanczos"), null));
		assertTrue(e.getMessage().startsWith("Hires width 5120 is not possible"), e.getMessage());
		assertEquals(calls, PIPELINE.unetCalls(), "refused before the first pass");
	}

	/** The memory estimate is for the final size, before the first pass: here with 200 MB available. */
	@Test
	void aFinalSizeTheMemoryCannotHoldIsRefused() {
		HiresFix.Options twice = new HiresFix.Options(2, 0, 0.5, "Lanczos");
		assertEquals(128, HiresFix.finalSize(PIPELINE, request().build(), twice, Long.MAX_VALUE)[0]);
		var e = assertThrows(StableDiffusionException.class, () -> HiresFix.finalSize(PIPELINE,
			request().size(1024, 1024).build(), twice, 200L << 20));
		assertTrue(e.getMessage().startsWith("2048x2048 needs about "), e.getMessage());
	}

	private static void assertRefused(HiresFix.Options options, String message) {
		var e = assertThrows(StableDiffusionException.class, () -> HiresFix.generate(PIPELINE, request().build(),
			options, null));
		assertTrue(e.getMessage().startsWith(message), e.getMessage());
	}
}
