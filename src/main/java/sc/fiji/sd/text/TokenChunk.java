package sc.fiji.sd.text;

import java.util.Arrays;

/**
 * One text-encoder input window: {@code maxLength} (77) token ids — start, up to 75 prompt tokens, end, padding —
 * and the emphasis weight of each position (1.0 for start, end and padding).
 *
 * @param inputIds the text encoder's {@code input_ids} for this chunk
 * @param weights one weight per id, for {@link PromptWeighting#apply}
 */
public record TokenChunk(int[] inputIds, float[] weights) {

	public TokenChunk {
		if (inputIds.length != weights.length) {
			throw new IllegalArgumentException(
				"inputIds (" + inputIds.length + ") and weights (" + weights.length + ") differ in length");
		}
	}

	/** True when every weight is 1, so the text encoder's output needs no re-weighting. */
	public boolean isUnweighted() {
		for (float w : weights) {
			if (w != 1f) return false;
		}
		return true;
	}

	// Records compare arrays by reference; chunks are values, so compare contents.
	@Override
	public boolean equals(Object o) {
		return o instanceof TokenChunk other && Arrays.equals(inputIds, other.inputIds)
			&& Arrays.equals(weights, other.weights);
	}

	@Override
	public int hashCode() {
		return 31 * Arrays.hashCode(inputIds) + Arrays.hashCode(weights);
	}

	@Override
	public String toString() {
		return "TokenChunk[inputIds=" + Arrays.toString(inputIds) + ", weights=" + Arrays.toString(weights) + "]";
	}
}
