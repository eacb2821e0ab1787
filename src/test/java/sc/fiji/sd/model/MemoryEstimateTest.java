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
		assertEquals(MemoryEstimate.BASE_BYTES + 1000 + 8L * 10 * n * n, m.bytes(1024, 1024, 1));
		Files.delete(dir.resolve("unet/config.json")); // no config: SD 1.x's 8 heads at full latent resolution
		long full = (512 / 8) * (512 / 8);
		assertEquals(MemoryEstimate.BASE_BYTES + 1000 + 8L * 8 * full * full, MemoryEstimate.of(dir).bytes(512, 512, 1));
	}

	@Test
	void availableMemoryIsThePhysicalMemoryNotTheHeap() {
		long available = MemoryEstimate.availableBytes();
		assertTrue(available > 0 && available != Runtime.getRuntime().maxMemory());
	}
}
