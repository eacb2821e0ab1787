package sc.fiji.sd.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import sc.fiji.sd.pipeline.TestModels;

/** What {@link StableDiffusionModel} reads from each export layout. */
class ModelDetectionTest {

	static ModelInfo info(String name) {
		return TestModels.model(name).info();
	}

	@Test
	void embeddedModel() {
		ModelInfo i = info("embedded");
		assertEquals("text to image", i.variant());
		assertEquals(4, i.unetInChannels());
		assertEquals("float32", i.unetType());
		assertTrue(i.textWidth() > 0);
		assertEquals(77, i.tokens());
		assertEquals(64, i.nativeSize(), "the embedded UNet is trained at 64×64");
		assertEquals(0, i.sizeStep() % 8);
		assertEquals("CPU", i.provider());
		assertNull(i.fallbackReason(), "device cpu was asked for: no fallback");
		String d = i.describe();
		assertTrue(d.contains("Native size:     64x64"), d);
	}

	@Test
	void optimumLayout() {
		ModelInfo i = info("optimum");
		assertEquals("int64", i.inputIdsType());
		assertEquals("latent_parameters", i.vaeEncoderOutput());
		assertTrue(i.timestepIsScalar());
		assertEquals(4, i.textWidth());
		assertEquals(16, i.sizeStep(), "8 × 2^(len(block_out_channels) − 1) from unet/config.json");
		assertEquals(64, i.nativeSize(), "unet sample_size 8 × 8");
		assertTrue(i.describe().contains("mean of the distribution"));
	}

	@Test
	void int64Timestep() {
		assertEquals("int64", info("int64-timestep").timestepType());
	}

	@Test
	void halfPrecision() {
		ModelInfo i = info("fp16");
		assertEquals("float16", i.unetType());
		assertTrue(i.fp16());
	}

	@Test
	void nineChannelInpainting() {
		ModelInfo i = info("inpaint9");
		assertEquals(9, i.unetInChannels());
		assertTrue(i.inpainting());
		assertTrue(i.variant().startsWith("inpainting"));
	}

	@Test
	void latentConsistencyModel() {
		ModelInfo i = info("lcm");
		assertTrue(i.timestepCondDim() > 0);
		assertTrue(i.lcm());
		assertEquals("LCMScheduler", i.schedulerClass());
	}

	@Test
	void vPrediction() {
		assertEquals("v_prediction", info("v-prediction").predictionType());
		assertEquals(6, info("v-prediction").textWidth(), "read from the model's output shape");
		assertEquals(16, info("v-prediction").sizeStep(), "no unet config: 8 × its one stride-2 convolution");
		assertEquals("epsilon", info("optimum").predictionType(), "an SD 1.5-style export");
		assertEquals("v_prediction", info("embedded").predictionType(), "the embedded model predicts v (its model card)");
	}

	@Test
	void theCacheKeepsOneModelAndClosesTheOldOne() {
		ModelProvider cache = new ModelProvider();
		try {
			StableDiffusionModel a = cache.get(TestModels.folder("embedded"), "cpu");
			assertSame(a, cache.get(TestModels.folder("embedded"), "CPU"));
			StableDiffusionModel b = cache.get(TestModels.folder("embedded"), "auto");
			assertNotSame(a, b);
			assertThrows(IllegalStateException.class, () -> a.unet().session().getInputInfo(), "closed");
			assertSame(b, cache.current());
			assertEquals("auto", b.info().device());
			assertTrue(b.info().fallbackReason().contains("CPU-only"));
		}
		finally {
			cache.release();
		}
		assertNull(cache.current());
	}
}
