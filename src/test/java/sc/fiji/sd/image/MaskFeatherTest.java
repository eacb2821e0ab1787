package sc.fiji.sd.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import net.imglib2.img.array.ArrayImgs;

class MaskFeatherTest {

	/** A 40×20 mask, repaint the right half (x ≥ 20). */
	private static float[] halfMask() {
		float[] m = new float[40 * 20];
		for (int y = 0; y < 20; y++)
			for (int x = 20; x < 40; x++)
				m[y * 40 + x] = 1;
		return m;
	}

	@Test
	void zeroFeatherIsACopy() {
		float[] m = halfMask();
		assertArrayEquals(m, MaskFeather.feather(ArrayImgs.floats(m.clone(), 40, 20), 0).update(null)
			.getCurrentStorageArray());
	}

	@Test
	void featherRampsAcrossTheEdgeAndLeavesTheFarSidesAlone() {
		var soft = MaskFeather.feather(ArrayImgs.floats(halfMask(), 40, 20), 6);
		float previous = -1;
		for (int x = 0; x < 40; x++) {
			float v = soft.getAt(x, 10).get();
			assertTrue(v >= previous - 1e-6, "monotone across the edge at x=" + x);
			assertTrue(v >= 0 && v <= 1);
			previous = v;
		}
		assertEquals(0, soft.getAt(2, 10).get(), 1e-6);
		assertEquals(1, soft.getAt(37, 10).get(), 1e-6);
		float edge = soft.getAt(19, 10).get(), inside = soft.getAt(20, 10).get();
		assertTrue(edge > 0.2 && edge < 0.5 && inside > 0.5 && inside < 0.8, edge + " " + inside);
	}
}
