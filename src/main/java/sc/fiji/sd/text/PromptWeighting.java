package sc.fiji.sd.text;

/**
 * Applies emphasis weights to the text encoder's output, as AUTOMATIC1111 does: each token's hidden-state vector is
 * multiplied by its weight, then the whole chunk is rescaled so that its mean equals the mean before weighting
 * ({@code z *= w; z *= originalMean / newMean}). The rescaling keeps the overall magnitude the UNet was trained on,
 * so weights shift emphasis between tokens rather than making the whole prompt louder.
 */
public final class PromptWeighting {

	private PromptWeighting() {}

	/**
	 * @param hiddenStates one chunk's text-encoder output, row-major {@code [tokens × width]} (77 × 768 for SD 1.x)
	 * @param tokens number of token positions (rows)
	 * @param width hidden size (columns)
	 * @param weights one weight per token position (from {@link TokenChunk#weights()})
	 * @return a new array with the weighted, mean-restored hidden states; the input is not modified
	 */
	public static float[] apply(float[] hiddenStates, int tokens, int width, float[] weights) {
		if (tokens <= 0 || width <= 0 || (long) tokens * width != hiddenStates.length) {
			throw new IllegalArgumentException("hiddenStates has " + hiddenStates.length + " values, expected tokens ("
				+ tokens + ") × width (" + width + ")");
		}
		if (weights.length != tokens) {
			throw new IllegalArgumentException("weights has " + weights.length + " values, expected one per token ("
				+ tokens + ")");
		}
		float[] out = new float[hiddenStates.length];
		double originalSum = 0;
		double weightedSum = 0;
		for (int t = 0; t < tokens; t++) {
			double w = weights[t];
			for (int i = t * width, end = i + width; i < end; i++) {
				originalSum += hiddenStates[i];
				double v = hiddenStates[i] * w;
				weightedSum += v;
				out[i] = (float) v;
			}
		}
		// Same number of elements, so the ratio of sums is the ratio of means. A zero mean after weighting (A1111
		// would divide by zero) leaves the weighted values unscaled.
		if (weightedSum == 0 || !Double.isFinite(originalSum / weightedSum)) return out;
		double scale = originalSum / weightedSum;
		for (int t = 0; t < tokens; t++) {
			double w = weights[t];
			for (int i = t * width, end = i + width; i < end; i++) {
				out[i] = (float) (hiddenStates[i] * w * scale);
			}
		}
		return out;
	}
}
