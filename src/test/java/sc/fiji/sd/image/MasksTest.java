package sc.fiji.sd.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import net.imglib2.RandomAccess;
import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.real.FloatType;

class MasksTest {

	/** 16×8 mask: right half white (repaint), with a grey 0.4 column that must count as keep. */
	static Img<FloatType> rightHalf() {
		Img<FloatType> m = ArrayImgs.floats(16, 8);
		RandomAccess<FloatType> ra = m.randomAccess();
		for (int y = 0; y < 8; y++)
			for (int x = 0; x < 16; x++) {
				ra.setPosition(new int[] { x, y });
				ra.get().set(x >= 8 ? 1f : x == 7 ? 0.4f : 0f);
			}
		return m;
	}

	@Test
	void latentMaskIsNearestAndThresholdedAtHalf() {
		float[] latent = Masks.toLatent(rightHalf(), 2, 1); // 16×8 → 2×1: left cell keep, right cell repaint
		assertArrayEquals(new float[] { 0, 1 }, latent);
		float[] full = Masks.toLatent(rightHalf(), 16, 8);
		assertEquals(0f, full[7], "0.4 is below the threshold");
		assertEquals(1f, full[8]);
		assertEquals(1f, full[7 * 16 + 15], "bottom right");
	}

	@Test
	void maskedImageIsGreyWhereRepainted() {
		float[] binary = Masks.binary(rightHalf());
		float[] image = new float[3 * 16 * 8];
		java.util.Arrays.fill(image, 0.7f);
		Masks.maskImageTensor(image, binary, 16, 8);
		assertEquals(0.7f, image[0]);
		assertEquals(0f, image[8]);
		assertEquals(0f, image[2 * 128 + 7 * 16 + 15]);
		assertEquals(0.7f, image[2 * 128 + 7 * 16 + 7]);
	}

	@Test
	void featherIsZeroOutsideAndRisesInside() {
		float[] alpha = Masks.featherInside(Masks.binary(rightHalf()), 16, 8, 3);
		for (int y = 0; y < 8; y++) {
			for (int x = 0; x < 8; x++) assertEquals(0f, alpha[y * 16 + x], "outside the mask");
			assertEquals(0.25f, alpha[y * 16 + 8], 1e-6, "edge: distance 1 of 4");
			assertEquals(0.5f, alpha[y * 16 + 9], 1e-6);
			assertEquals(1f, alpha[y * 16 + 11], 1e-6, "beyond the feather");
			for (int x = 8; x < 15; x++) assertTrue(alpha[y * 16 + x] <= alpha[y * 16 + x + 1]);
		}
		assertArrayEquals(Masks.binary(rightHalf()), Masks.featherInside(Masks.binary(rightHalf()), 16, 8, 0));
	}

	@Test
	void pasteKeepsUnmaskedPixelsExactly() {
		Img<FloatType> original = ArrayImgs.floats(16, 8, 3), generated = ArrayImgs.floats(16, 8, 3);
		var o = original.cursor();
		int i = 0;
		while (o.hasNext()) o.next().set((i++ % 97) / 97f + 1e-7f * i); // values that a blend would disturb
		generated.forEach(t -> t.set(0.123f));
		float[] alpha = Masks.featherInside(Masks.binary(rightHalf()), 16, 8, 2);
		Img<FloatType> out = Masks.paste(original, generated, alpha);
		RandomAccess<FloatType> a = original.randomAccess(), b = out.randomAccess();
		for (int c = 0; c < 3; c++)
			for (int y = 0; y < 8; y++)
				for (int x = 0; x < 16; x++) {
					int[] p = { x, y, c };
					a.setPosition(p);
					b.setPosition(p);
					if (x < 8) assertEquals(Float.floatToIntBits(a.get().get()), Float.floatToIntBits(b.get().get()));
					if (x >= 11) assertEquals(0.123f, b.get().get());
				}
	}
}
