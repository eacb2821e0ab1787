package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/**
 * Strength 0 keeps the image, as the README says: image to image and inpainting return the input pixels exactly
 * (not the VAE round trip, which blurs them) and run no model, for every image of a batch.
 */
class StrengthZeroTest {

	@ParameterizedTest
	@EnumSource(value = Mode.class, names = { "IMAGE_TO_IMAGE", "INPAINT" })
	void strengthZeroReturnsTheInputExactly(Mode mode) {
		StableDiffusionPipeline p = TestModels.pipeline("embedded");
		Img<FloatType> input = PipelineEndToEndTest.picture(p.model().info(), 0.3f);
		long calls = p.unetCalls();
		GenerationResult r = p.generate(GenerationRequest.builder().mode(mode).initImage(input)
			.mask(PipelineEndToEndTest.rightHalf(p.model().info())).prompt("a red circle").strength(0).steps(20)
			.seed(3).batchSize(2).build(), null);
		assertFalse(r.interrupted());
		assertEquals(calls, p.unetCalls(), "no denoising step");
		assertEquals(2, r.images().size());
		for (GeneratedImage g : r.images()) {
			assertTrue(PipelineEndToEndTest.samePixels(input, g.pixels()), mode + ": the input, pixel for pixel");
			assertNotSame(input, g.pixels(), "a copy: the caller's image is never handed back to be modified");
		}
		assertEquals(4, r.images().get(1).seed());
		assertTrue(r.images().get(1).parameters().contains("Seed: 4"), r.images().get(1).parameters());
	}

	/** Fewer than one step to run ({@code int(steps × strength) == 0}): nothing denoises, so nothing changes either. */
	@ParameterizedTest
	@ValueSource(doubles = { 0.01, 0.049 })
	void strengthBelowOneStepReturnsTheInput(double strength) {
		StableDiffusionPipeline p = TestModels.pipeline("embedded");
		Img<FloatType> input = PipelineEndToEndTest.picture(p.model().info(), 0.7f);
		GenerationResult r = p.generate(GenerationRequest.builder().mode(Mode.IMAGE_TO_IMAGE).initImage(input)
			.prompt("x").strength(strength).steps(20).seed(1).build(), null);
		assertTrue(PipelineEndToEndTest.samePixels(input, r.images().get(0).pixels()));
	}
}
