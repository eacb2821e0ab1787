package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.model.OnnxComponent;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.CfgMode;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.RuntimeOptions;

/**
 * The UNet keeps ONNX Runtime's CPU arena between steps and empties it after a batch's last step, so the VAE decoder's
 * memory never comes on top of the UNet's; the VAE decoder and encoder empty their own after every call
 * (PERFORMANCE.md). The text encoder has no arena.
 */
class UnetMemoryReleaseTest {

	private static GenerationRequest request(int batchCount) {
		return GenerationRequest.builder().prompt("a red circle").negativePrompt("blurry").steps(3).guidance(7)
			.seed(11).size(32, 32).scheduler("Euler").batchCount(batchCount).build();
	}

	/** Per UNet call of a generation: whether it released the arena when it ended. */
	private static List<Boolean> unetReleases(StableDiffusionPipeline pipeline, GenerationRequest request) {
		List<Boolean> releases = new ArrayList<>();
		OnnxComponent unet = pipeline.model().unet();
		unet.setCallListener((component, inputs, result, nanos, released) -> releases.add(released));
		try {
			pipeline.generate(request, null);
		}
		finally {
			unet.setCallListener(null);
		}
		return releases;
	}

	@Test
	void onlyTheLastUnetCallOfEachBatchReleasesTheArena() {
		StableDiffusionModel model = TestModels.model("optimum");
		assertNotNull(model.unet().releaseMemoryOptions(), "the UNet session has an arena to release");
		assertNotNull(model.vaeDecoder().releaseMemoryOptions(), "the VAE decoder has one, released after every call");
		assertNotNull(model.vaeEncoder(), "the fixture has a VAE encoder");
		assertNotNull(model.vaeEncoder().releaseMemoryOptions(), "so has the VAE encoder");
		assertNull(model.textEncoder().releaseMemoryOptions());

		StableDiffusionPipeline separate = new StableDiffusionPipeline(model);
		separate.setCfgMode(CfgMode.SEPARATE);
		// two batches × 3 steps × (unconditional, conditional): the conditional call of each batch's last step
		assertEquals(List.of(false, false, false, false, false, true, false, false, false, false, false, true),
			unetReleases(separate, request(2)));

		StableDiffusionPipeline batched = new StableDiffusionPipeline(model);
		batched.setCfgMode(CfgMode.BATCHED);
		assertEquals(List.of(false, false, true), unetReleases(batched, request(1)));

		List<Boolean> decoderReleases = new ArrayList<>();
		model.vaeDecoder().setCallListener((component, inputs, result, nanos, released) -> decoderReleases.add(released));
		try {
			batched.generate(request(2), null);
		}
		finally {
			model.vaeDecoder().setCallListener(null);
		}
		assertEquals(List.of(true, true), decoderReleases, "every decode empties the decoder's arena");
	}

	@Test
	void theArenaDoesNotChangeThePixels() {
		float[] withArena = pixels(TestModels.pipeline("optimum").generate(request(1), null).images().get(0).pixels());
		try (StableDiffusionModel noArena = StableDiffusionModel.load(TestModels.folder("optimum"), RuntimeOptions.DEFAULTS
			.withDevice(Device.CPU).withCpuArena(RuntimeOptions.ArenaUse.NONE)))
		{
			assertNull(noArena.unet().releaseMemoryOptions(), "sd.cpuArena=none: no arena anywhere");
			float[] without = pixels(new StableDiffusionPipeline(noArena).generate(request(1), null).images().get(0).pixels());
			assertArrayEquals(withArena, without, "same sessions' arithmetic, other memory");
		}
	}

	private static float[] pixels(Img<FloatType> img) {
		float[] v = new float[(int) img.size()];
		int i = 0;
		for (FloatType p : img) v[i++] = p.get();
		return v;
	}
}
