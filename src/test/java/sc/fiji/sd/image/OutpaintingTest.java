package sc.fiji.sd.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import net.imglib2.img.array.ArrayImgs;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.image.Outpainting.Sides;

/** The outpainting canvas: edge replication, the mask of the new area, the sides checked, the parameters entry. */
class OutpaintingTest {

	@Test
	void theCanvasRepeatsTheEdgesAndTheMaskIsTheNewArea() {
		float[] data = new float[3 * 3 * 2]; // 3×2 RGB, value = 100c + 10y + x
		for (int c = 0; c < 3; c++)
			for (int y = 0; y < 2; y++)
				for (int x = 0; x < 3; x++)
					data[(c * 2 + y) * 3 + x] = 100 * c + 10 * y + x;
		Sides s = new Sides(2, 1, 0, 3);
		var canvas = Outpainting.extend(ArrayImgs.floats(data, 3, 2, 3), s);
		assertEquals(6, canvas.dimension(0));
		assertEquals(5, canvas.dimension(1));
		for (int c = 0; c < 3; c++)
			for (int y = 0; y < 2; y++)
				for (int x = 0; x < 3; x++)
					assertEquals(100 * c + 10 * y + x, canvas.getAt(x + 2, y, c).get(), "original pixels kept");
		assertEquals(0f, canvas.getAt(0, 0, 0).get(), "left: the first column repeated");
		assertEquals(212f, canvas.getAt(5, 4, 2).get(), "bottom right: the corner pixel repeated");
		var mask = Outpainting.mask(3, 2, s);
		int ones = 0;
		for (int y = 0; y < 5; y++)
			for (int x = 0; x < 6; x++) {
				boolean original = x >= 2 && x < 5 && y < 2;
				assertEquals(original ? 0f : 1f, mask.getAt(x, y).get());
				if (!original) ones++;
			}
		assertEquals(6 * 5 - 3 * 2, ones);
	}

	@Test
	void sidesMustBePositiveAndOneAtLeast() {
		assertTrue(assertThrows(StableDiffusionException.class, () -> new Sides(0, 0, 0, 0)).getMessage()
			.contains("at least one side"));
		assertThrows(StableDiffusionException.class, () -> new Sides(-1, 8, 0, 0));
	}

	@Test
	void theParametersEntryIsQuotedBecauseItHasCommas() {
		assertEquals("a\nSteps: 2, Outpaint: \"left 32, right 0, top 8, bottom 0\"",
			Outpainting.parameters("a\nSteps: 2", new Sides(32, 0, 8, 0)));
	}
}
