package sc.fiji.sd.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import sc.fiji.sd.onnx.Fp16;
import sc.fiji.sd.onnx.OnnxGraph;

/**
 * The blocked low-rank kernel against the plain loop it replaces: the same sums in the same order, so the same bits,
 * whatever the sizes (rows odd or even, columns across blocks, ranks not a multiple of 4, rank 1) and element types.
 */
class LowRankUpdateTest {

	private static final int B = LowRankUpdate.BLOCK;

	/** rows × columns × rank: odd rows, columns across 1, 2 and 3 blocks and not a multiple of them, ranks 1 to 9. */
	private static final int[][] SIZES = { { 1, 1, 1 }, { 3, 5, 1 }, { 2, 7, 4 }, { 5, 9, 3 }, { 7, B + 37, 5 },
		{ 6, 2 * B + 1, 8 }, { 4, B, 9 }, { 9, 3, 2 } };

	@Test
	void fp32SumsEqualThePlainLoopToTheBit() {
		Random random = new Random(13);
		for (int[] s : SIZES) {
			int rows = s[0], columns = s[1], rank = s[2];
			float[] w = values(random, rows * columns);
			LowRankUpdate.Product p = product(random, rows, columns, rank);
			ByteBuffer data = fp32(w);
			LowRankUpdate.add(LowRankUpdate.Rows.of(data, OnnxGraph.FLOAT, rows, columns), List.of(p));
			float[] expected = w.clone();
			plainLoop(expected, p, rows, columns);
			assertArrayEquals(expected, floats(data), rows + " × " + columns + " rank " + rank);
		}
	}

	@Test
	void sumsAreTheExactProductWithinFloatRounding() {
		Random random = new Random(5);
		int rows = 11, columns = B + 3, rank = 7;
		float[] w = values(random, rows * columns);
		LowRankUpdate.Product p = product(random, rows, columns, rank);
		ByteBuffer data = fp32(w);
		LowRankUpdate.add(LowRankUpdate.Rows.of(data, OnnxGraph.FLOAT, rows, columns), List.of(p));
		float[] got = floats(data);
		for (int o = 0; o < rows; o++) {
			for (int j = 0; j < columns; j++) {
				double exact = w[o * columns + j], magnitude = Math.abs(exact);
				for (int r = 0; r < rank; r++) {
					double term = (double) p.coef()[o * rank + r] * p.basis()[r][j];
					exact += term;
					magnitude += Math.abs(term);
				}
				assertEquals(exact, got[o * columns + j], (rank + 1) * Math.ulp((float) magnitude), o + "," + j);
			}
		}
	}

	@Test
	void severalProductsAreAddedInTurnInOnePass() {
		Random random = new Random(7);
		int rows = 5, columns = B + 11;
		float[] w = values(random, rows * columns);
		LowRankUpdate.Product first = product(random, rows, columns, 3), second = product(random, rows, columns, 6);
		ByteBuffer data = fp32(w);
		LowRankUpdate.add(LowRankUpdate.Rows.of(data, OnnxGraph.FLOAT, rows, columns), List.of(first, second));
		float[] expected = w.clone();
		plainLoop(expected, first, rows, columns); // one LoRA after the other, as separate passes did
		plainLoop(expected, second, rows, columns);
		assertArrayEquals(expected, floats(data));
	}

	@Test
	void halfWeightsArePatchedInFp32AndRoundedOnce() {
		Random random = new Random(11);
		int rows = 3, columns = B + 5;
		for (int type : new int[] { OnnxGraph.FLOAT16, OnnxGraph.BFLOAT16 }) {
			boolean bf16 = type == OnnxGraph.BFLOAT16;
			short[] bits = new short[rows * columns];
			ByteBuffer data = ByteBuffer.allocateDirect(bits.length * 2).order(ByteOrder.nativeOrder());
			for (int i = 0; i < bits.length; i++) {
				float v = (float) random.nextGaussian();
				bits[i] = bf16 ? LowRankUpdate.bfloat16(v) : Fp16.fromFloat(v);
				data.putShort(i * 2, bits[i]);
			}
			LowRankUpdate.Product first = product(random, rows, columns, 2), second = product(random, rows, columns, 5);
			LowRankUpdate.add(LowRankUpdate.Rows.of(data, type, rows, columns), List.of(first, second));
			float[] fp32 = new float[bits.length];
			for (int i = 0; i < bits.length; i++) fp32[i] = bf16 ? Float.intBitsToFloat(bits[i] << 16) : Fp16.toFloat(bits[i]);
			plainLoop(fp32, first, rows, columns);
			plainLoop(fp32, second, rows, columns);
			for (int i = 0; i < bits.length; i++) {
				short expected = bf16 ? LowRankUpdate.bfloat16(fp32[i]) : Fp16.fromFloat(fp32[i]);
				assertEquals(expected, data.getShort(i * 2), (bf16 ? "bf16 " : "fp16 ") + i);
			}
		}
	}

	@Test
	void reusedArraysLongerThanNeededGiveTheSameSums() {
		Random random = new Random(17);
		int rows = 3, columns = 10, rank = 5;
		float[] w = values(random, rows * columns);
		LowRankUpdate.Product exact = product(random, rows, columns, rank);
		float[][] longer = new float[rank][];
		for (int r = 0; r < rank; r++) {
			longer[r] = java.util.Arrays.copyOf(exact.basis()[r], columns + 7);
			java.util.Arrays.fill(longer[r], columns, columns + 7, Float.NaN); // left over from a larger weight
		}
		float[] coef = java.util.Arrays.copyOf(exact.coef(), rows * rank + 4);
		java.util.Arrays.fill(coef, rows * rank, coef.length, Float.NaN);
		ByteBuffer a = fp32(w), b = fp32(w);
		LowRankUpdate.add(LowRankUpdate.Rows.of(a, OnnxGraph.FLOAT, rows, columns), List.of(exact));
		LowRankUpdate.add(LowRankUpdate.Rows.of(b, OnnxGraph.FLOAT, rows, columns),
			List.of(new LowRankUpdate.Product(coef, longer)));
		assertArrayEquals(floats(a), floats(b));
	}

	@Test
	void aWeightOfAnotherSizeIsRefused() {
		ByteBuffer data = fp32(new float[6]);
		assertThrows(IllegalArgumentException.class, () -> LowRankUpdate.Rows.of(data, OnnxGraph.FLOAT, 2, 4));
		var rows = LowRankUpdate.Rows.of(data, OnnxGraph.FLOAT, 2, 3);
		assertThrows(IllegalArgumentException.class, // basis rows shorter than the weight's
			() -> LowRankUpdate.add(rows, List.of(product(new Random(1), 2, 2, 1))));
		assertThrows(IllegalArgumentException.class, // coef for fewer rows
			() -> LowRankUpdate.add(rows, List.of(product(new Random(1), 1, 3, 1))));
	}

	/** The loop the kernel replaces: ΔW's row summed from 0 over r = 0, 1, …, then added to the weight. */
	private static void plainLoop(float[] w, LowRankUpdate.Product p, int rows, int columns) {
		int rank = p.rank();
		float[] row = new float[columns];
		for (int o = 0; o < rows; o++) {
			java.util.Arrays.fill(row, 0f);
			for (int r = 0; r < rank; r++) {
				float c = p.coef()[o * rank + r];
				for (int j = 0; j < columns; j++) row[j] += c * p.basis()[r][j];
			}
			for (int j = 0; j < columns; j++) w[o * columns + j] += row[j];
		}
	}

	private static LowRankUpdate.Product product(Random random, int rows, int columns, int rank) {
		float[][] basis = new float[rank][];
		for (int r = 0; r < rank; r++) basis[r] = values(random, columns);
		return new LowRankUpdate.Product(values(random, rows * rank), basis);
	}

	private static float[] values(Random random, int n) {
		float[] a = new float[n];
		for (int i = 0; i < n; i++) a[i] = (float) random.nextGaussian();
		return a;
	}

	private static ByteBuffer fp32(float[] values) {
		ByteBuffer b = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder());
		b.asFloatBuffer().put(values);
		return b;
	}

	private static float[] floats(ByteBuffer b) {
		float[] a = new float[b.capacity() / 4];
		b.asFloatBuffer().get(0, a);
		return a;
	}
}
