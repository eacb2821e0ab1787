package sc.fiji.sd.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LatentPreviewTest {

	/** Latents of one batch of 2, 4 channels, 2×3 (h×w): channel c of batch b is all {@code values[b][c]}. */
	private static float[] latents(float[][] values) {
		int plane = 6;
		float[] data = new float[values.length * 4 * plane];
		for (int b = 0; b < values.length; b++)
			for (int c = 0; c < 4; c++)
				for (int i = 0; i < plane; i++)
					data[(b * 4 + c) * plane + i] = values[b][c];
		return data;
	}

	@Test
	void eachChannelAddsItsColourThenMapsFromMinusOneOneToZeroOne() {
		float[] lat = latents(new float[][] { { 0, 0, 0, 0 }, { 1, 0, 0, 0 } });
		long[] shape = { 2, 4, 2, 3 };
		var zero = LatentPreview.toRgb(lat, shape, 0, 1);
		for (int c = 0; c < 3; c++)
			assertEquals(0.5, zero.getAt(1, 1, c).get(), 1e-6, "zero latent is mid grey");
		var first = LatentPreview.toRgb(lat, shape, 1, 1);
		assertEquals((0.298 + 1) / 2, first.getAt(0, 0, 0).get(), 1e-6);
		assertEquals((0.207 + 1) / 2, first.getAt(0, 0, 1).get(), 1e-6);
		assertEquals((0.208 + 1) / 2, first.getAt(0, 0, 2).get(), 1e-6);
	}

	@Test
	void theFourthChannelDarkensBlueMostAndValuesAreClamped() {
		float[] lat = latents(new float[][] { { 0, 0, 0, 3 } });
		var rgb = LatentPreview.toRgb(lat, new long[] { 1, 4, 2, 3 }, 0, 1);
		assertEquals((1 - 3 * 0.184) / 2, rgb.getAt(2, 1, 0).get(), 1e-6);
		assertEquals(0, rgb.getAt(2, 1, 2).get(), 0, "1 - 3·0.473 < -1 clamps to 0");
	}

	@Test
	void zoomRepeatsEachLatentPixelAndKeepsXYOrder() {
		float[] lat = new float[4 * 2 * 3];
		lat[1 * 3 + 2] = 2; // channel 0, y = 1, x = 2
		var rgb = LatentPreview.toRgb(lat, new long[] { 1, 4, 2, 3 }, 0, 8);
		assertArrayEquals(new long[] { 24, 16, 3 }, rgb.dimensionsAsLongArray());
		assertEquals(Math.min(1, (2 * 0.298 + 1) / 2), rgb.getAt(16, 8, 0).get(), 1e-6);
		assertEquals(Math.min(1, (2 * 0.298 + 1) / 2), rgb.getAt(23, 15, 0).get(), 1e-6);
		assertEquals(0.5, rgb.getAt(15, 8, 0).get(), 1e-6);
	}

	@Test
	void refusesLatentsThatAreNotFourChannels() {
		assertThrows(IllegalArgumentException.class, () -> LatentPreview.toRgb(new float[16], new long[] { 1, 16, 1, 1 }, 0, 1));
		assertThrows(IllegalArgumentException.class, () -> LatentPreview.toRgb(new float[4], new long[] { 1, 4, 1, 1 }, 1, 1));
	}
}
