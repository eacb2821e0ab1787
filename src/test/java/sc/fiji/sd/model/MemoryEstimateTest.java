package sc.fiji.sd.model;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.StableDiffusionException;

/** The memory estimate: read from the model, calibrated on the embedded model, refusing what cannot run. */
class MemoryEstimateTest {

	@TempDir
	Path dir;

	@Test
	void embeddedModelMatchesItsCalibration() {
		MemoryEstimate m = MemoryEstimate.of(EmbeddedModel.path());
		// Measured peak resident memory (see the class comment): 512² 708 MB, 768² 2,967 MB, CFG as two calls.
		assertWithin(708, m.bytes(512, 512, 1), 0.1);
		assertWithin(2967, m.bytes(768, 768, 1), 0.1);
		assertWithin(226, m.bytes(256, 256, 2), 0.1);
	}

	private static void assertWithin(long measuredMb, long estimate, double tolerance) {
		double mb = estimate / (double) (1 << 20);
		assertTrue(Math.abs(mb - measuredMb) <= tolerance * measuredMb, "estimate " + mb + " MB vs measured " + measuredMb);
	}

	/** SDXL base's unet/config.json, as far as the estimate reads it. */
	private static final String SDXL_UNET_CONFIG = "{\"block_out_channels\": [320, 640, 1280], \"down_block_types\": "
		+ "[\"DownBlock2D\", \"CrossAttnDownBlock2D\", \"CrossAttnDownBlock2D\"], \"attention_head_dim\": [5, 10, 20], "
		+ "\"num_attention_heads\": null, \"transformer_layers_per_block\": [1, 2, 10]}";

	/** A model folder whose components' files have the given sizes (sparse files: nothing is written). */
	private Path sdxlFolder(String name, long unet, long textEncoder, long textEncoder2, long vaeDecoder, long vaeEncoder)
		throws Exception
	{
		Path folder = dir.resolve(name);
		Files.createDirectories(folder.resolve("unet"));
		Files.writeString(folder.resolve("unet/config.json"), SDXL_UNET_CONFIG);
		String[] components = { "unet", "text_encoder", "text_encoder_2", "vae_decoder", "vae_encoder" };
		long[] sizes = { unet, textEncoder, textEncoder2, vaeDecoder, vaeEncoder };
		for (int i = 0; i < components.length; i++) {
			if (sizes[i] == 0) continue;
			Files.createDirectories(folder.resolve(components[i]));
			try (var f = new java.io.RandomAccessFile(folder.resolve(components[i]).resolve("weights.pb").toFile(), "rw")) {
				f.setLength(sizes[i]);
			}
		}
		return folder;
	}

	/**
	 * SDXL-shaped UNets of reduced depth (tools/model/make_sdxl_memory.py), one UNet call measured with
	 * sc.fiji.sd.bench.UnetMemoryProbe (tools/model/sdxl_memory.sh; PERFORMANCE.md, "SDXL memory"): peak resident
	 * memory in MiB by depth of the deepest level, size and batch.
	 */
	@Test
	void sdxlShapedUnetsMatchTheirMeasurements() throws Exception {
		long[] weights = { 1927656976L, 2761315856L, 3594933776L };
		// depth, size, batch, measured peak (MiB)
		int[][] measured = { { 0, 512, 1, 2075 }, { 0, 512, 2, 2214 }, { 0, 768, 1, 2459 }, { 0, 768, 2, 2992 },
			{ 0, 1024, 1, 3502 }, { 0, 1024, 2, 5076 }, { 1, 512, 1, 2875 }, { 1, 512, 2, 3012 }, { 1, 768, 1, 3258 },
			{ 1, 768, 2, 3789 }, { 1, 1024, 1, 4306 }, { 2, 512, 1, 3671 }, { 2, 512, 2, 3811 }, { 2, 768, 1, 4032 },
			{ 2, 768, 2, 4573 } };
		for (int[] row : measured) {
			MemoryEstimate m = MemoryEstimate.of(sdxlFolder("d" + row[0], weights[row[0]], 0, 0, 0, 0));
			assertWithin(row[3], m.bytes(row[1], row[1], row[2]), 0.1);
		}
	}

	/**
	 * fp16 weights take twice their file's size on the CPU: measured on the depth-0 SDXL-shaped UNet with its weights
	 * stored as fp16 (make_sdxl_memory.py --fp16-weights; 963,828,488 bytes) at 512² batch 1, 2,152 MiB, more than
	 * the same UNet in fp32 (2,075 MiB). The folder holds a real fp16 graph (the fp16 fixture's UNet) beside a sparse
	 * weights file of the measured size.
	 */
	@Test
	void fp16WeightsCountTwiceOnTheCpu() throws Exception {
		Path folder = sdxlFolder("fp16", 963828488L, 0, 0, 0, 0);
		Path fp16Unet = Path.of("src/test/resources/fixtures/fp16/unet/model.onnx");
		Files.copy(fp16Unet, folder.resolve("unet/model.onnx"));
		MemoryEstimate m = MemoryEstimate.of(folder);
		assertEquals(2 * (963828488L + Files.size(fp16Unet)), m.weightBytes());
		assertWithin(2152, m.bytes(512, 512, 1), 0.1);
		Path fp32 = dir.resolve("fp32/unet");
		Files.createDirectories(fp32);
		Files.copy(Path.of("src/test/resources/fixtures/optimum/unet/model.onnx"), fp32.resolve("model.onnx"));
		assertEquals(Files.size(fp32.resolve("model.onnx")), MemoryEstimate.of(dir.resolve("fp32")).weightBytes());
	}

	/**
	 * The full SDXL base in fp32 (UNet 2,567,463,684 parameters; CLIP ViT-L 123,060,480 and OpenCLIP bigG 694,659,840;
	 * VAE decoder 49,490,199 and encoder 34,163,592; 13,233 MiB) at 1024×1024: the estimate agrees with PERFORMANCE.md's
	 * extrapolation from the measurements. The UNet phase with CFG as one batch-2 call: depth 0 at 1024² batch 2, 5,076
	 * MiB, plus 10 depth steps of 794 MiB, plus the other components' weights, 3,438 MiB: 16,454 MiB. The VAE decoder
	 * phase, which sets the peak in either CFG mode: SD's VAE decoder (SDXL's shapes) at 1024², 3,701 MiB, plus the
	 * other components' weights, 13,043 MiB: 16,744 MiB. With 15 GB free it is refused, with 17 GB it runs.
	 */
	@Test
	void fullSdxlAt1024AgreesWithTheExtrapolationAndIsRefusedWhereItCannotFit() throws Exception {
		Path folder = sdxlFolder("sdxl", 2567463684L * 4, 123060480L * 4, 694659840L * 4, 49490199L * 4, 34163592L * 4);
		MemoryEstimate m = MemoryEstimate.of(folder);
		assertWithin(16744, m.bytes(1024, 1024, 2), 0.1);
		assertWithin(16744, m.bytes(1024, 1024, 1), 0.1);
		long free = 15L << 30;
		var e = assertThrows(StableDiffusionException.class, () -> m.check(1024, 1024, 1, false, 64, free, 4096));
		assertTrue(e.getMessage().startsWith("1024x1024 needs about 16.5 GB of memory, but 15.0 GB is available."),
			e.getMessage());
		assertDoesNotThrow(() -> m.check(1024, 1024, 1, true, 64, 17L << 30, 4096));
	}

	/** SD's VAE decoder (the shapes of SDXL's), one call in a fresh process (UnetMemoryProbe ... vae_decoder). */
	@Test
	void theVaeDecoderMatchesItsMeasurement() throws Exception {
		Path folder = sdxlFolder("vae", 0, 0, 0, 49490199L * 4, 0);
		MemoryEstimate m = MemoryEstimate.of(folder);
		assertWithin(3701, m.bytes(1024, 1024, 1), 0.1);
	}

	@Test
	void aSizeThatCannotRunIsRefusedWithTheLargestThatFits() {
		MemoryEstimate m = new MemoryEstimate(30L << 20, 4, 0);
		long available = 8L << 30;
		var e = assertThrows(StableDiffusionException.class, () -> m.check(4096, 4096, 1, false, 16, available, 4096));
		assertTrue(e.getMessage().startsWith("4096x4096 needs about 2.0 TB of memory, but 8.0 GB is available."), e.getMessage());
		int largest = m.largestSquare(16, 1, available, 4096);
		assertTrue(e.getMessage().contains("The largest size that fits is about " + largest + "x" + largest), e.getMessage());
		assertTrue(m.bytes(largest, largest, 1) <= available && m.bytes(largest + 16, largest + 16, 1) > available);
		assertDoesNotThrow(() -> m.check(largest, largest, 1, false, 16, available, 4096));
		assertTrue(assertThrows(StableDiffusionException.class, () -> m.check(512, 512, 64, true, 16, available, 4096))
			.getMessage().contains("fewer images per batch"));
	}

	@Test
	void tiledDiffusionBoundsTheAttentionByTheTile() {
		// the embedded model (64-pixel native size): 512x512 in one piece needs ~700 MB, in 64-pixel tiles the attention
		// term is a tile's, so 400 MB are enough
		MemoryEstimate m = MemoryEstimate.of(EmbeddedModel.path());
		long available = 400L << 20;
		assertThrows(StableDiffusionException.class, () -> m.check(512, 512, 1, true, 64, available, 4096));
		assertDoesNotThrow(() -> m.check(512, 512, 64, 64, 1, true, 64, available, 4096));
		assertTrue(m.bytes(512, 512, 2) > available && m.bytes(64, 64, 2) < available);
	}

	@Test
	void headsAndTheFirstAttentionLevelComeFromTheConfig() throws Exception {
		Files.createDirectories(dir.resolve("unet"));
		// SDXL-like: no attention in the first block, heads listed per block.
		Files.writeString(dir.resolve("unet/config.json"), "{\"down_block_types\": [\"DownBlock2D\", \"CrossAttnDownBlock2D\"],"
			+ " \"attention_head_dim\": [5, 10]}");
		Files.write(dir.resolve("unet/model.onnx"), new byte[1000]);
		MemoryEstimate m = MemoryEstimate.of(dir);
		long n = (1024 / 8 / 2) * (1024 / 8 / 2);
		// no block_out_channels and no readable graph: 320 channels, as SD 1.x and SDXL
		long activations = 4L * 12 * 320 * (1024 / 8) * (1024 / 8);
		assertEquals(MemoryEstimate.BASE_BYTES + 1000 + 8L * 10 * n * n + activations, m.bytes(1024, 1024, 1));
		// with a VAE decoder (no config: 128 channels, as SD's and SDXL's), whichever of the two phases needs more
		Files.createDirectories(dir.resolve("vae_decoder"));
		long vae = 4L * 7 * 128 * 1024 * 1024;
		assertEquals(MemoryEstimate.BASE_BYTES + 1000 + Math.max(8L * 10 * n * n + activations, vae),
			MemoryEstimate.of(dir).bytes(1024, 1024, 1));
		Files.delete(dir.resolve("vae_decoder"));
		Files.delete(dir.resolve("unet/config.json")); // no config: SD 1.x's 8 heads at full latent resolution
		long full = (512 / 8) * (512 / 8);
		assertEquals(MemoryEstimate.BASE_BYTES + 1000 + 8L * 8 * full * full + 4L * 12 * 320 * full,
			MemoryEstimate.of(dir).bytes(512, 512, 1));
	}

	@Test
	void availableMemoryIsThePhysicalMemoryNotTheHeap() {
		long available = MemoryEstimate.availableBytes();
		assertTrue(available > 0 && available != Runtime.getRuntime().maxMemory());
	}
}
