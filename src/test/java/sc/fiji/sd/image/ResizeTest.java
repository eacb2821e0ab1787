package sc.fiji.sd.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.img.basictypeaccess.array.FloatArray;
import net.imglib2.type.numeric.real.FloatType;

class ResizeTest {

	@Test
	void toMultipleRoundsToTheNearestAcceptedSize() {
		assertEquals(64, Resize.toMultiple(64, 16));
		assertEquals(64, Resize.toMultiple(70, 16));
		assertEquals(80, Resize.toMultiple(73, 16));
		assertEquals(16, Resize.toMultiple(3, 16), "never below one step");
		assertThrows(IllegalArgumentException.class, () -> Resize.toMultiple(10, 0));
	}

	@Test
	void sameSizeIsAnExactCopy() {
		ArrayImg<FloatType, FloatArray> img = ramp(5, 4, 3);
		var out = Resize.bilinear(img, 5, 4);
		assertArrayEquals(img.update(null).getCurrentStorageArray(), out.update(null).getCurrentStorageArray());
	}

	@Test
	void channelsAreResizedIndependentlyAndKeepTheirOrder() {
		// Constant per channel: 0.1 (R), 0.5 (G), 0.9 (B) must stay exactly that at any size.
		float[] data = new float[6 * 4 * 3];
		for (int i = 0; i < data.length; i++)
			data[i] = i < 24 ? 0.1f : i < 48 ? 0.5f : 0.9f;
		var out = Resize.bilinear(ArrayImgs.floats(data, 6, 4, 3), 13, 7);
		assertArrayEquals(new long[] { 13, 7, 3 }, out.dimensionsAsLongArray());
		var ra = out.randomAccess();
		for (int c = 0; c < 3; c++) {
			ra.setPosition(new long[] { 12, 6, c });
			assertEquals(new float[] { 0.1f, 0.5f, 0.9f }[c], ra.get().get(), 1e-6);
		}
	}

	@Test
	void upsamplingInterpolatesBetweenPixelCentres() {
		// Two pixels 0 and 1, doubled to four: centres at 0.25 and 0.75 of the way map to 0, 0.25, 0.75, 1.
		var out = Resize.bilinear(ArrayImgs.floats(new float[] { 0, 1 }, 2, 1), 4, 1);
		assertArrayEquals(new float[] { 0, 0.25f, 0.75f, 1 }, out.update(null).getCurrentStorageArray(), 1e-6f);
	}

	@Test
	void downAndUpKeepsTheMean() {
		var img = ramp(16, 16, 1);
		var back = Resize.bilinear(Resize.bilinear(img, 8, 8), 16, 16);
		assertEquals(mean(img.update(null).getCurrentStorageArray()), mean(back.update(null).getCurrentStorageArray()),
			1e-3);
	}

	@Test
	void nearestKeepsAMaskBinary() {
		float[] mask = new float[10 * 10];
		for (int y = 3; y < 7; y++)
			for (int x = 3; x < 7; x++)
				mask[y * 10 + x] = 1;
		var out = Resize.nearest(ArrayImgs.floats(mask, 10, 10), 7, 13);
		for (float v : out.update(null).getCurrentStorageArray())
			assertEquals(true, v == 0 || v == 1, "value " + v);
		assertEquals(1f, out.getAt(3, 6).get());
		assertEquals(0f, out.getAt(0, 0).get());
	}

	static ArrayImg<FloatType, FloatArray> ramp(int w, int h, int c) {
		float[] data = new float[w * h * c];
		for (int i = 0; i < data.length; i++)
			data[i] = (i % (w * h)) / (float) (w * h);
		return ArrayImgs.floats(data, w, h, c);
	}

	static double mean(float[] a) {
		double s = 0;
		for (float v : a)
			s += v;
		return s / a.length;
	}
}
