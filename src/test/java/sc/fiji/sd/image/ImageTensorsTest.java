package sc.fiji.sd.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import net.imglib2.RandomAccess;
import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.StableDiffusionException;

class ImageTensorsTest {

	/** A 3×2 image whose every sample is distinct: value = (c·100 + y·10 + x) / 255. */
	static Img<FloatType> pattern() {
		Img<FloatType> img = ArrayImgs.floats(3, 2, 3);
		RandomAccess<FloatType> ra = img.randomAccess();
		for (int c = 0; c < 3; c++)
			for (int y = 0; y < 2; y++)
				for (int x = 0; x < 3; x++) {
					ra.setPosition(new int[] { x, y, c });
					ra.get().set((c * 100 + y * 10 + x) / 255f);
				}
		return img;
	}

	@Test
	void nchwIsChannelThenRowThenColumnInMinusOneToOne() {
		float[] t = ImageTensors.toNchw(pattern());
		assertEquals(18, t.length);
		// index = c·H·W + y·W + x; value v·2 − 1
		assertEquals(0 / 255f * 2 - 1, t[0], 1e-6);
		assertEquals(2 / 255f * 2 - 1, t[2], 1e-6); // x = 2, top row
		assertEquals(10 / 255f * 2 - 1, t[3], 1e-6); // y = 1 (second row, below)
		assertEquals(212 / 255f * 2 - 1, t[2 * 6 + 1 * 3 + 2], 1e-6); // blue, y = 1, x = 2
		assertEquals(-1f, ImageTensors.toNchw(ArrayImgs.floats(2, 2, 3))[0]);
	}

	@Test
	void roundTripAndClamping() {
		Img<FloatType> img = pattern();
		Img<FloatType> back = ImageTensors.fromNchw(ImageTensors.toNchw(img), 0, 3, 2);
		var a = img.cursor();
		var b = back.cursor();
		while (a.hasNext()) assertEquals(a.next().get(), b.next().get(), 1e-6);

		float[] t = new float[2 * 3 * 1 * 1]; // batch of two 1×1 images
		t[3] = 3f; // image 1, red: above range
		t[4] = -7f; // image 1, green: below range
		t[5] = Float.NaN;
		Img<FloatType> second = ImageTensors.fromNchw(t, 1, 1, 1);
		RandomAccess<FloatType> ra = second.randomAccess();
		ra.setPosition(new int[] { 0, 0, 0 });
		assertEquals(1f, ra.get().get());
		ra.setPosition(1, 2);
		assertEquals(0f, ra.get().get());
		ra.setPosition(2, 2);
		assertEquals(0f, ra.get().get(), "NaN becomes black, never NaN pixels");
	}

	@Test
	void greyImagesAreRejectedWithAHint() {
		var e = assertThrows(StableDiffusionException.class, () -> ImageTensors.toNchw(ArrayImgs.floats(4, 4)));
		assertEquals(true, e.getMessage().contains("RGB"));
	}
}
