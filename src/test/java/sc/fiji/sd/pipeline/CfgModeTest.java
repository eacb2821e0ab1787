package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.bench.BenchFixtures;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.CfgMode;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.RuntimeOptions;

/**
 * Classifier-free guidance as one batch-2 UNet call or as two batch-1 calls per step: the same image either way, and
 * the call counts say which one ran.
 */
class CfgModeTest {

	private static StableDiffusionModel model;

	@BeforeAll
	static void load() {
		model = StableDiffusionModel.load(BenchFixtures.folder("optimum"), "cpu");
	}

	@AfterAll
	static void close() {
		model.close();
	}

	private static GenerationRequest request(double guidance) {
		return GenerationRequest.builder().prompt("a red circle").negativePrompt("blurry").steps(4).guidance(guidance)
			.seed(7).size(32, 32).scheduler("Euler").build();
	}

	private static float[] pixels(GenerationResult r) {
		Img<FloatType> img = r.images().get(0).pixels();
		float[] v = new float[(int) img.size()];
		int i = 0;
		for (FloatType p : img) v[i++] = p.get();
		return v;
	}

	@Test
	void batchedAndSeparateCallsGiveTheSameImage() {
		StableDiffusionPipeline batched = new StableDiffusionPipeline(model), separate = new StableDiffusionPipeline(model);
		batched.setCfgMode(CfgMode.BATCHED);
		separate.setCfgMode(CfgMode.SEPARATE);
		float[] a = pixels(batched.generate(request(7.5), null)), b = pixels(separate.generate(request(7.5), null));

		assertEquals(4, batched.unetCalls(), "one call per step");
		assertEquals(8, batched.unetSamples(), "each call holds the unconditional and the conditional latents");
		assertEquals(8, separate.unetCalls(), "two calls per step");
		assertEquals(8, separate.unetSamples(), "of one latent each");
		double maxDiff = 0;
		for (int i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
		assertTrue(maxDiff <= 1e-5, "same prediction up to float rounding, max difference " + maxDiff);
	}

	@Test
	void withoutGuidanceBothModesMakeOneCallPerStep() {
		for (CfgMode mode : CfgMode.values()) {
			StableDiffusionPipeline p = new StableDiffusionPipeline(model);
			p.setCfgMode(mode);
			p.generate(request(1.0), null);
			assertEquals(4, p.unetCalls(), mode.name());
			assertEquals(4, p.unetSamples(), mode.name());
		}
	}

	@Test
	void autoFollowsTheMeasuredRuleAndNamesAreChecked() {
		assertEquals(CfgMode.BATCHED, CfgMode.AUTO.resolve("CPU", 48 * 48), "384 × 384 on the CPU: batch-2 7 % faster");
		assertEquals(CfgMode.SEPARATE, CfgMode.AUTO.resolve("CPU", 64 * 64), "512 × 512 on the CPU: as fast, 1.1 GB less");
		assertEquals(CfgMode.SEPARATE, CfgMode.AUTO.resolve("CPU", 64 * 48), "512 × 384 is above 384 × 384");
		assertEquals(CfgMode.SEPARATE, CfgMode.AUTO.resolve("CPU", 96 * 96), "768 × 768: batch-2 attention too large");
		assertEquals(CfgMode.BATCHED, CfgMode.AUTO.resolve("CUDA", 96 * 96));
		assertEquals(CfgMode.SEPARATE, CfgMode.SEPARATE.resolve("CUDA", 8 * 8), "an explicit mode is kept");
		assertEquals(CfgMode.SEPARATE, CfgMode.parse(" Separate "));
		StableDiffusionException e = assertThrows(StableDiffusionException.class, () -> CfgMode.parse("both"));
		assertTrue(e.getMessage().contains("'both'") && e.getMessage().contains("batched"), e.getMessage());
	}

	@Test
	void thePipelineTakesItsModeFromTheModelsRuntimeOptions() {
		assertEquals(CfgMode.AUTO, new StableDiffusionPipeline(model).cfgMode(), "the default");
		try (StableDiffusionModel separate = StableDiffusionModel.load(BenchFixtures.folder("optimum"),
			RuntimeOptions.DEFAULTS.withDevice(Device.CPU).withCfg(CfgMode.SEPARATE)))
		{
			assertEquals(CfgMode.SEPARATE, new StableDiffusionPipeline(separate).cfgMode(32, 32));
		}
	}
}
