package sc.fiji.sd.lora;

import java.util.ArrayList;
import java.util.List;

/**
 * The factors of LoRA modules read from their files and arranged as {@link LowRankUpdate.Product}s over the rows a
 * weight is stored in, in arrays one worker reuses from weight to weight. Patching a whole model thus leaves next to
 * no garbage on the Java heap: in a fresh JVM, a young generation grown to hold a few hundred MB of factor copies
 * would add that much to the peak memory, beyond the patched weights themselves.
 * <p>
 * Not thread-safe: one per worker. The products handed out stay valid until the next {@link #clear()}.
 */
final class LoraFactors {

	private float[] up = new float[0], down = new float[0];
	private final List<float[]> coefs = new ArrayList<>();
	private final List<float[]> rows = new ArrayList<>(); // basis rows, handed out in turn
	private int products, rowsUsed;

	/** Makes every array available again (the products handed out since the last call must no longer be used). */
	void clear() {
		products = 0;
		rowsUsed = 0;
	}

	/**
	 * ΔW = weight · (alpha / rank) · up · down of {@code m}, as a product over the rows of a weight stored
	 * {@code [out, in…]} ({@code transposed} false: rows o, coef = scale · up, basis = down) or {@code [in, out]}
	 * ({@code transposed}: rows i, coef = downᵀ, basis = scale · upᵀ). The scale is applied to up, as before the
	 * kernel existed, so the patched bits do not change.
	 */
	LowRankUpdate.Product product(Lora.Module m, boolean transposed, double weight) {
		int rank = m.rank(), out = (int) m.out(), in = (int) m.in();
		float scale = (float) (weight * m.alpha() / rank);
		up = fit(up, out * rank);
		down = fit(down, rank * in);
		m.up(up);
		m.down(down);
		float[] coef = coef(transposed ? in * rank : out * rank);
		float[][] basis = new float[rank][];
		if (!transposed) { // row o of ΔW = Σ_r (scale · up[o][r]) · down[r][:]
			for (int k = 0; k < out * rank; k++) coef[k] = up[k] * scale;
			for (int r = 0; r < rank; r++) {
				basis[r] = row(in);
				System.arraycopy(down, r * in, basis[r], 0, in);
			}
		}
		else { // row i of ΔWᵀ = Σ_r down[r][i] · (scale · up[:][r])
			for (int r = 0; r < rank; r++)
				for (int i = 0; i < in; i++) coef[i * rank + r] = down[r * in + i];
			for (int r = 0; r < rank; r++) {
				float[] b = basis[r] = row(out);
				for (int o = 0; o < out; o++) b[o] = up[o * rank + r] * scale;
			}
		}
		return new LowRankUpdate.Product(coef, basis);
	}

	private float[] coef(int n) {
		if (products == coefs.size()) coefs.add(new float[0]);
		float[] a = fit(coefs.get(products), n);
		coefs.set(products++, a);
		return a;
	}

	private float[] row(int n) {
		if (rowsUsed == rows.size()) rows.add(new float[0]);
		float[] a = fit(rows.get(rowsUsed), n);
		rows.set(rowsUsed++, a);
		return a;
	}

	/** {@code a}, or a larger array when it holds fewer than {@code n} values (grown by half again: sizes vary). */
	private static float[] fit(float[] a, int n) {
		return a.length >= n ? a : new float[Math.max(n, a.length + a.length / 2)];
	}
}
