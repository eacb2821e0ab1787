package sc.fiji.sd.lora;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;
import java.util.List;

import sc.fiji.sd.onnx.Fp16;
import sc.fiji.sd.onnx.OnnxGraph;

/**
 * Adds a low-rank product to a weight in place: {@code W[o][j] += Σ_r coef[o][r] · basis[r][j]}, the LoRA update
 * {@code scale · up · down} in either layout the exporters store (see {@link LoraPatcher}).
 * <p>
 * Each element's sum is taken in the order of the plain loop — from 0, r = 0, 1, …, then added to the weight — so the
 * result is the same to the bit; only the loops around it are arranged for speed. HotSpot's C2 (Java 17) vectorises a
 * loop only when every array is indexed by the loop variable itself (an invariant offset such as {@code b + i} in a
 * second array keeps it scalar): the basis is therefore one array per rank row, indexed by column like the
 * accumulators. Two output rows share each load of four basis rows, and columns are taken in blocks so that the block
 * of the basis stays in the L2 cache while every row pair passes over it. Nothing of the size of ΔW is allocated: the
 * sums go straight into the weight's buffer, one row block at a time, and several LoRAs on one weight in the same pass.
 */
final class LowRankUpdate {

	/** Columns per block: a block of the basis (rank × this × 4 bytes, 512 KB at rank 64) fits in the L2 cache. */
	static final int BLOCK = 2048;

	private LowRankUpdate() {}

	/**
	 * One product {@code coef · basis}: {@code coef} is rows × rank (row-major), {@code basis} one array per rank row,
	 * each at least as long as the weight's rows (arrays are reused: values past those are ignored).
	 */
	record Product(float[] coef, float[][] basis) {
		int rank() { return basis.length; }
	}

	/**
	 * {@code weight[o][j] += Σ_r coef[o · rank + r] · basis[r][j]} for every row o and column j of {@code weight}, for
	 * each product in turn: the weight's element gets the first product's sum, then the second's, … (one pass over the
	 * weight for all, and a 16-bit weight is rounded once, after the last).
	 */
	static void add(Rows weight, List<Product> products) {
		int rows = weight.rows(), columns = weight.columns(), n = products.size();
		for (Product p : products) {
			if (p.coef().length < rows * p.rank()) throw new IllegalArgumentException("coef has "
				+ p.coef().length + " values for " + rows + " × " + p.rank());
			for (float[] b : p.basis()) {
				if (b.length < columns) throw new IllegalArgumentException("basis row of " + b.length + " for " + columns);
			}
		}
		float[][] acc = new float[n][columns], acc2 = new float[n][columns];
		float[] scratch = new float[columns];
		for (int from = 0; from < columns; from += BLOCK) {
			int to = Math.min(columns, from + BLOCK);
			int o = 0;
			for (; o + 2 <= rows; o += 2) {
				for (int k = 0; k < n; k++) sums(products.get(k), o, acc[k], acc2[k], from, to);
				weight.add(o, from, to, acc, scratch);
				weight.add(o + 1, from, to, acc2, scratch);
			}
			if (o < rows) { // the last row of an odd count
				for (int k = 0; k < n; k++) sums(products.get(k), o, acc[k], null, from, to);
				weight.add(o, from, to, acc, scratch);
			}
		}
	}

	/** Rows {@code o} (into {@code a}) and {@code o + 1} (into {@code b}, unless null) of the product, columns [from, to). */
	private static void sums(Product p, int o, float[] a, float[] b, int from, int to) {
		float[] coef = p.coef();
		float[][] basis = p.basis();
		int rank = basis.length, c = o * rank, d = c + rank, r = 0;
		Arrays.fill(a, from, to, 0f);
		if (b != null) Arrays.fill(b, from, to, 0f);
		for (; r + 4 <= rank; r += 4) {
			if (b != null) {
				twoRows(a, b, basis[r], basis[r + 1], basis[r + 2], basis[r + 3], coef[c + r], coef[c + r + 1],
					coef[c + r + 2], coef[c + r + 3], coef[d + r], coef[d + r + 1], coef[d + r + 2], coef[d + r + 3],
					from, to);
			}
			else {
				oneRow(a, basis[r], basis[r + 1], basis[r + 2], basis[r + 3], coef[c + r], coef[c + r + 1],
					coef[c + r + 2], coef[c + r + 3], from, to);
			}
		}
		for (; r < rank; r++) {
			oneRank(a, basis[r], coef[c + r], from, to);
			if (b != null) oneRank(b, basis[r], coef[d + r], from, to);
		}
	}

	private static void twoRows(float[] a, float[] b, float[] x0, float[] x1, float[] x2, float[] x3, float a0,
		float a1, float a2, float a3, float b0, float b1, float b2, float b3, int from, int to)
	{
		for (int j = from; j < to; j++) {
			float v0 = x0[j], v1 = x1[j], v2 = x2[j], v3 = x3[j];
			a[j] = (((a[j] + a0 * v0) + a1 * v1) + a2 * v2) + a3 * v3;
			b[j] = (((b[j] + b0 * v0) + b1 * v1) + b2 * v2) + b3 * v3;
		}
	}

	private static void oneRow(float[] a, float[] x0, float[] x1, float[] x2, float[] x3, float a0, float a1,
		float a2, float a3, int from, int to)
	{
		for (int j = from; j < to; j++) a[j] = (((a[j] + a0 * x0[j]) + a1 * x1[j]) + a2 * x2[j]) + a3 * x3[j];
	}

	private static void oneRank(float[] a, float[] x, float u, int from, int to) {
		for (int j = from; j < to; j++) a[j] += u * x[j];
	}

	/**
	 * The rows of a weight held in a direct native-order buffer in its own element type (fp32, or fp16 / bf16 patched
	 * in fp32 and rounded back per element, as a cast of the whole fp32 result would be).
	 */
	abstract static class Rows {
		private final int rows, columns;

		Rows(int rows, int columns) {
			this.rows = rows;
			this.columns = columns;
		}

		int rows() { return rows; }

		int columns() { return columns; }

		/**
		 * {@code weight[row][from..to) += deltas[k][from..to)} for k = 0, 1, … in turn, with {@code scratch} (≥ columns)
		 * to stage the row in.
		 */
		abstract void add(int row, int from, int to, float[][] deltas, float[] scratch);

		/** {@code data} (native order) of an initializer of element type {@code dataType}, seen as rows × columns. */
		static Rows of(ByteBuffer data, int dataType, int rows, int columns) {
			if ((long) rows * columns * (dataType == OnnxGraph.FLOAT ? 4 : 2) != data.capacity()) {
				throw new IllegalArgumentException(data.capacity() + " bytes are not " + rows + " × " + columns
					+ " values of type " + dataType);
			}
			return switch (dataType) {
				case OnnxGraph.FLOAT -> new Fp32(data.asFloatBuffer(), rows, columns);
				case OnnxGraph.FLOAT16, OnnxGraph.BFLOAT16 -> new Half(data.asShortBuffer(), dataType == OnnxGraph.BFLOAT16,
					rows, columns);
				default -> throw new IllegalArgumentException("element type " + dataType + " is not a float type");
			};
		}
	}

	private static final class Fp32 extends Rows {
		private final FloatBuffer values;

		Fp32(FloatBuffer values, int rows, int columns) {
			super(rows, columns);
			this.values = values;
		}

		@Override
		void add(int row, int from, int to, float[][] deltas, float[] scratch) {
			int at = row * columns() + from, n = to - from;
			values.get(at, scratch, from, n); // a bulk copy; the sums below are then vectorised
			for (float[] delta : deltas)
				for (int j = from; j < to; j++) scratch[j] += delta[j];
			values.put(at, scratch, from, n);
		}
	}

	private static final class Half extends Rows {
		private final ShortBuffer bits;
		private final boolean bf16;

		Half(ShortBuffer bits, boolean bf16, int rows, int columns) {
			super(rows, columns);
			this.bits = bits;
			this.bf16 = bf16;
		}

		@Override
		void add(int row, int from, int to, float[][] deltas, float[] scratch) {
			int at = row * columns();
			for (int j = from; j < to; j++) {
				short h = bits.get(at + j);
				float v = bf16 ? Float.intBitsToFloat((h & 0xffff) << 16) : Fp16.toFloat(h);
				for (float[] delta : deltas) v += delta[j];
				bits.put(at + j, bf16 ? bfloat16(v) : Fp16.fromFloat(v));
			}
		}
	}

	/** The bfloat16 bits nearest to {@code x}, ties to even (finite values; LoRA weights are). */
	static short bfloat16(float x) {
		int bits = Float.floatToRawIntBits(x);
		return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
	}
}
