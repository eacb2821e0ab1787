package sc.fiji.sd.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import ai.onnxruntime.platform.Fp16Conversions;

/** Our Java 17 half-precision conversion, checked against ONNX Runtime's own and against the IEEE rules. */
class Fp16Test {

	@Test
	void everyHalfConvertsToTheSameFloatAsOnnxRuntime() {
		for (int bits = 0; bits < 0x10000; bits++) {
			short h = (short) bits;
			float ours = Fp16.toFloat(h), theirs = Fp16Conversions.fp16ToFloat(h);
			if (Float.isNaN(theirs)) assertTrue(Float.isNaN(ours), "NaN " + Integer.toHexString(bits));
			else assertEquals(Float.floatToRawIntBits(theirs), Float.floatToRawIntBits(ours), Integer.toHexString(bits));
		}
	}

	@Test
	void everyHalfSurvivesARoundTrip() {
		for (int bits = 0; bits < 0x10000; bits++) {
			short h = (short) bits;
			if (Float.isNaN(Fp16.toFloat(h))) continue;
			assertEquals(h, Fp16.fromFloat(Fp16.toFloat(h)), Integer.toHexString(bits));
		}
	}

	@Test
	void roundsToNearestEvenAndSaturatesToInfinity() {
		assertEquals(0x3c00, Fp16.fromFloat(1f));
		// 1 + 2^-11 is exactly half way between 1 and the next half (1 + 2^-10): ties go to the even mantissa (1)
		assertEquals(0x3c00, Fp16.fromFloat(1f + 0x1p-11f));
		assertEquals(0x3c01, Fp16.fromFloat(1f + 0x1p-11f + 0x1p-20f));
		// 1 + 3·2^-11 is half way between mantissas 1 and 2: goes to 2 (even)
		assertEquals(0x3c02, Fp16.fromFloat(1f + 3 * 0x1p-11f));
		assertEquals(0x7bff, Fp16.fromFloat(65504f)); // largest half
		assertEquals(0x7c00, Fp16.fromFloat(65520f)); // rounds up to infinity
		assertEquals((short) 0xfc00, Fp16.fromFloat(Float.NEGATIVE_INFINITY));
		assertTrue(Float.isNaN(Fp16.toFloat(Fp16.fromFloat(Float.NaN))));
		assertEquals(0x0001, Fp16.fromFloat(0x1p-24f)); // smallest subnormal
		assertEquals(0x0000, Fp16.fromFloat(0x1p-26f)); // below half of it: zero
		assertEquals((short) 0x8000, Fp16.fromFloat(-0f));
	}

	@Test
	void randomFloatsRoundLikeOnnxRuntime() {
		SplittableRandom r = new SplittableRandom(42);
		for (int i = 0; i < 200_000; i++) {
			float f = Float.intBitsToFloat(r.nextInt());
			if (Float.isNaN(f)) continue;
			assertEquals(Fp16Conversions.floatToFp16(f), Fp16.fromFloat(f), () -> Float.toString(f));
		}
	}
}
