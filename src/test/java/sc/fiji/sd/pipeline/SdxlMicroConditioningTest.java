package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.pipeline.GenerationSettings.Crop;
import sc.fiji.sd.pipeline.GenerationSettings.Size;

/**
 * SDXL's micro-conditioning from the settings table, on the SDXL micro fixtures: the original size and the crop's
 * top-left corner of the base's {@code time_ids}, the refiner's aesthetic scores, as diffusers' {@code
 * _get_add_time_ids} makes them (original (h, w) + crop (top, left) + target (h, w), or + the score per CFG half).
 */
class SdxlMicroConditioningTest {

	private static GenerationRequest.Builder request() {
		return GenerationRequest.builder().prompt("a red circle").negativePrompt("blue").size(64, 48).steps(2).seed(4);
	}

	@Test
	void timeIdsTakeTheRequestsOriginalSizeCropAndScores() {
		GenerationRequest r = request().setting(GenerationSettings.ORIGINAL_SIZE, new Size(1024, 768))
			.setting(GenerationSettings.CROP_TOP_LEFT, new Crop(16, 8)).setting(GenerationSettings.AESTHETIC_SCORE, 7.5)
			.setting(GenerationSettings.NEGATIVE_AESTHETIC_SCORE, 1.0).build();
		var base = TestModels.model("sdxl-base").info().sdxl();
		assertArrayEquals(new float[] { 768, 1024, 8, 16, 48, 64 }, SdxlTimeIds.of(base, 64, 48, UnetBatch.Half.PROMPT, r));
		assertArrayEquals(new float[] { 768, 1024, 8, 16, 48, 64 }, SdxlTimeIds.of(base, 64, 48, UnetBatch.Half.NEGATIVE, r));
		var refiner = TestModels.model("sdxl-refiner").info().sdxl();
		assertArrayEquals(new float[] { 768, 1024, 8, 16, 7.5f }, SdxlTimeIds.of(refiner, 64, 48, UnetBatch.Half.PROMPT, r));
		assertArrayEquals(new float[] { 768, 1024, 8, 16, 1f }, SdxlTimeIds.of(refiner, 64, 48, UnetBatch.Half.NEGATIVE, r));
		// unset: the output size, no crop, 6 and 2.5 (what the pipeline used before the settings existed)
		assertArrayEquals(SdxlTimeIds.of(base, 64, 48, UnetBatch.Half.PROMPT),
			SdxlTimeIds.of(base, 64, 48, UnetBatch.Half.PROMPT, request().build()));
		assertArrayEquals(new float[] { 48, 64, 0, 0, 2.5f }, SdxlTimeIds.of(refiner, 64, 48, UnetBatch.Half.NEGATIVE,
			request().build()));
	}

	private static float[] pixels(StableDiffusionPipeline p, GenerationRequest r) {
		GeneratedImage image = p.generate(r, null).images().get(0);
		float[] out = new float[64 * 48 * 3];
		int i = 0;
		for (FloatType t : net.imglib2.view.Views.flatIterable(image.pixels())) out[i++] = t.get();
		return out;
	}

	@Test
	void theBasesOriginalSizeAndCropReachItsUnetAndItsParameters() {
		StableDiffusionPipeline p = TestModels.pipeline("sdxl-base");
		float[] plain = pixels(p, request().build());
		float[] sameAsDefault = pixels(p, request().setting(GenerationSettings.ORIGINAL_SIZE, new Size(64, 48))
			.setting(GenerationSettings.CROP_TOP_LEFT, new Crop(0, 0)).build());
		assertArrayEquals(plain, sameAsDefault, "the output size and 0,0 are the defaults");
		GenerationRequest told = request().setting(GenerationSettings.ORIGINAL_SIZE, new Size(1024, 768))
			.setting(GenerationSettings.CROP_TOP_LEFT, new Crop(16, 8)).build();
		assertFalse(Arrays.equals(plain, pixels(p, told)), "other time ids, other pixels");
		String parameters = p.generate(told, null).images().get(0).parameters();
		assertTrue(parameters.contains("Original size: 1024x768, Crop top left: \"16,8\""), parameters);
		assertArrayEquals(pixels(p, told), pixels(p, ParametersReplay.builder(parameters).size(64, 48).build()),
			"replayed from its parameters text: the same image");
	}

	@Test
	void theRefinersAestheticScoresReachItsUnet() {
		StableDiffusionPipeline p = TestModels.pipeline("sdxl-refiner");
		var init = ArrayImgs.floats(64, 48, 3);
		init.forEach(t -> t.set(0.4f));
		GenerationRequest.Builder b = request().mode(GenerationRequest.Mode.IMAGE_TO_IMAGE).initImage(init).strength(0.6)
			.steps(4);
		float[] plain = pixels(p, b.build());
		GenerationRequest scored = b.setting(GenerationSettings.AESTHETIC_SCORE, 9.0)
			.setting(GenerationSettings.NEGATIVE_AESTHETIC_SCORE, 1.0).build();
		assertFalse(Arrays.equals(plain, pixels(p, scored)));
		String parameters = p.generate(scored, null).images().get(0).parameters();
		assertTrue(parameters.contains("Aesthetic score: 9, Negative aesthetic score: 1"), parameters);
	}
}
