package sc.fiji.sd.onnx;

/**
 * IEEE 754 half precision (binary16) conversions for fp16 models.
 * <p>
 * Java 20 has {@code Float.floatToFloat16}; this plugin targets Java 17, so the conversion is written out here:
 * round to nearest, ties to even; overflow gives infinity; subnormals are kept; NaN stays NaN.
 */
public final class Fp16 {

	private Fp16() {}

	/** The binary16 bits nearest to {@code value}. */
	public static short fromFloat(float value) {
		int bits = Float.floatToRawIntBits(value);
		int sign = (bits >>> 16) & 0x8000;
		int exponent = (bits >>> 23) & 0xff;
		int mantissa = bits & 0x7fffff;
		if (exponent == 0xff) { // infinity or NaN (keep a quiet-NaN bit so NaN never turns into infinity)
			return (short) (sign | 0x7c00 | (mantissa == 0 ? 0 : 0x200 | (mantissa >>> 13)));
		}
		int halfExponent = exponent - 127 + 15;
		if (halfExponent >= 0x1f) return (short) (sign | 0x7c00); // too large: infinity
		if (halfExponent <= 0) { // subnormal half (or zero): value = m · 2^-24
			int shift = 14 - halfExponent;
			if (shift > 24) return (short) sign;
			int full = mantissa | 0x800000;
			int m = full >>> shift;
			int rest = full & ((1 << shift) - 1);
			int halfway = 1 << (shift - 1);
			if (rest > halfway || (rest == halfway && (m & 1) == 1)) m++; // may carry into the smallest normal: correct
			return (short) (sign | m);
		}
		int half = (halfExponent << 10) | (mantissa >>> 13);
		int rest = mantissa & 0x1fff;
		if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) half++; // a carry may reach infinity: correct
		return (short) (sign | half);
	}

	/** The float value of binary16 bits (exact: every half is a float). */
	public static float toFloat(short half) {
		int bits = half & 0xffff;
		int sign = (bits & 0x8000) << 16;
		int exponent = (bits >>> 10) & 0x1f;
		int mantissa = bits & 0x3ff;
		if (exponent == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
		if (exponent == 0) {
			float v = Math.scalb((float) mantissa, -24);
			return sign == 0 ? v : -v;
		}
		return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
	}
}
