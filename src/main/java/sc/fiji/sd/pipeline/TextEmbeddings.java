package sc.fiji.sd.pipeline;

import java.util.Map;

/**
 * A prompt's text conditioning as the UNet takes it: per named UNet input ({@code encoder_hidden_states}; for SDXL
 * also the pooled {@code text_embeds}), one image's values for the prompt and for the negative prompt. The UNet runner
 * repeats them for every image and packs them into the CFG halves of each call ({@link TextInputs}).
 *
 * @param inputs UNet input name → embedding, in a stable order
 */
public record TextEmbeddings(Map<String, Embedding> inputs) {

	/**
	 * One UNet input's values for one image.
	 *
	 * @param prompt the prompt's values, row-major in {@code shape}
	 * @param negative the negative prompt's values (same size), or null when CFG does not run
	 * @param shape the shape of one image's values, without the batch axis (e.g. {@code [tokens, width]})
	 */
	public record Embedding(float[] prompt, float[] negative, long[] shape) {
		/** Values per image: the product of {@code shape}. */
		public int size() {
			long n = 1;
			for (long d : shape) n *= d;
			return Math.toIntExact(n);
		}

		/** The values of one CFG half. */
		public float[] of(UnetBatch.Half half) {
			return half == UnetBatch.Half.NEGATIVE ? negative : prompt;
		}
	}

	public TextEmbeddings {
		inputs = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(inputs));
	}

	/** Embeddings with one input. */
	public static TextEmbeddings of(String input, Embedding embedding) {
		return new TextEmbeddings(Map.of(input, embedding));
	}
}
