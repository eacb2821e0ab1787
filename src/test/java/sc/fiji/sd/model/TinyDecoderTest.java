package sc.fiji.sd.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.bench.TinyDecoderBench;
import sc.fiji.sd.onnx.RuntimeOptions;
import sc.fiji.sd.pipeline.TestModels;

/** The tiny decoder: its two layouts and their output ranges, bad folders, and the shipped one's fidelity. */
class TinyDecoderTest {

	static final Path SHIPPED = Path.of("models", "tiny-sd-shapes-taesd");

	/**
	 * Measured (bench --decoder models/tiny-sd-shapes-taesd --psnr 6 --steps 20 on the embedded model): on its seventh
	 * base mean 30.40 dB over these six images (min 24.65), the decoder fine-tuned on the base's own generations; on
	 * the fifth and sixth base 30.3 dB, on the first 25.06. The bound leaves 1 dB for other CPUs' arithmetic.
	 */
	static final double MEAN_PSNR_BOUND = 29.3;

	@Test
	void theShippedDecoderIsCloseToTheVaeDecoderOnGeneratedImages() {
		StableDiffusionModel model = TestModels.model("embedded");
		double[] psnr = TinyDecoderBench.psnr(model, model.tinyDecoder(SHIPPED), 6, 20);
		double mean = Arrays.stream(psnr).average().orElseThrow();
		assertTrue(mean >= MEAN_PSNR_BOUND, "PSNR against the VAE decoder " + Arrays.toString(psnr));
	}

	@Test
	void aDiffusersAutoencoderTinyGivesMinusOneToOneAndTaesdZeroToOne(@TempDir Path dir) throws Exception {
		Path diffusers = Files.createDirectories(dir.resolve("vae_decoder"));
		Files.copy(SHIPPED.resolve("taesd_decoder/model.onnx"), diffusers.resolve("model.onnx"));
		Files.writeString(diffusers.resolve("config.json"), "{\"_class_name\": \"AutoencoderTiny\"}");
		float[] latents = new float[2 * 4 * 8 * 8];
		Random random = new Random(3);
		for (int i = 0; i < latents.length; i++)
			latents[i] = (float) random.nextGaussian();
		try (TinyDecoder taesd = TinyDecoder.open(SHIPPED, RuntimeOptions.DEFAULTS);
			TinyDecoder asDiffusers = TinyDecoder.open(dir, RuntimeOptions.DEFAULTS))
		{
			assertTrue(taesd.zeroToOne() && !asDiffusers.zeroToOne());
			// the same network: read as TAESD, its [0, 1] output is mapped to the VAE's [-1, 1]
			float[] a = taesd.decode(latents, 1, 8, 8), b = asDiffusers.decode(latents, 1, 8, 8);
			assertEquals(3 * 64 * 64, a.length);
			for (int i = 0; i < a.length; i++)
				assertEquals(2 * b[i] - 1, a[i], 1e-5, "value " + i);
		}
	}

	@Test
	void foldersWithoutATinyDecoderAreRefusedWithWhatToGive(@TempDir Path dir) {
		var missing = assertThrows(StableDiffusionException.class, () -> TinyDecoder.open(dir.resolve("nope"),
			RuntimeOptions.DEFAULTS));
		assertTrue(missing.getMessage().contains("does not exist") && missing.getMessage().contains("taesd_decoder"),
			missing.getMessage());
		var empty = assertThrows(StableDiffusionException.class, () -> TinyDecoder.open(dir, RuntimeOptions.DEFAULTS));
		assertTrue(empty.getMessage().contains("holds no taesd_decoder/model.onnx"), empty.getMessage());
		// a whole model's vae_decoder/ is the full VAE (AutoencoderKL): not taken for a tiny one
		var full = assertThrows(StableDiffusionException.class, () -> TinyDecoder.open(EmbeddedModel.path(),
			RuntimeOptions.DEFAULTS));
		assertTrue(full.getMessage().contains("full VAE (AutoencoderKL), not a tiny decoder"), full.getMessage());
	}
}
