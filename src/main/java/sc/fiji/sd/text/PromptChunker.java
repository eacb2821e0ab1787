package sc.fiji.sd.text;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import sc.fiji.sd.StableDiffusionException;

/**
 * Turns a prompt in AUTOMATIC1111 syntax into text-encoder windows of 75 tokens + start/end (77 ids), each token
 * carrying the weight of the fragment it came from. Long prompts become several chunks whose encodings the pipeline
 * concatenates (77 · n positions), as A1111 does.
 * <p>
 * A1111's rules: each weighted fragment is tokenized on its own; {@code BREAK} closes the current chunk (padding it);
 * when a chunk is full and the next token is not a comma, the tokens after the last comma within the last
 * {@value #COMMA_BACKTRACK} tokens move to the next chunk, so a comma-separated phrase is not cut in two; an empty
 * prompt gives one chunk.
 */
public final class PromptChunker {

	/** A1111's default for "prompt word wrap length limit" (comma_padding_backtrack). */
	public static final int COMMA_BACKTRACK = 20;

	private final ClipTokenizer tokenizer;
	private final int chunkLength;
	private final int commaToken;
	private final TriggerWords triggers;

	/** Prompt and negative prompt, padded to the same number of chunks (CFG runs them as one batch). */
	public record Pair(List<TokenChunk> prompt, List<TokenChunk> negative) {}

	public PromptChunker(ClipTokenizer tokenizer) {
		this(tokenizer, TriggerWords.NONE);
	}

	/**
	 * With textual-inversion embeddings: a trigger word's tokens become its embedding's ids, one per vector, at the
	 * weight of the fragment; the vectors count toward the chunk and are not split across two (A1111's rule).
	 */
	public PromptChunker(ClipTokenizer tokenizer, TriggerWords triggers) {
		this.tokenizer = tokenizer;
		this.chunkLength = tokenizer.maxLength() - 2;
		this.commaToken = tokenizer.tokenId(",</w>");
		this.triggers = triggers;
	}

	/** Prompt tokens per chunk, without start and end (75 for CLIP). */
	public int chunkLength() {
		return chunkLength;
	}

	/** The chunks of one prompt in A1111 syntax; at least one. */
	public List<TokenChunk> chunk(String prompt) {
		return chunk(PromptParser.parse(prompt));
	}

	/** The chunks of already parsed fragments; at least one. */
	public List<TokenChunk> chunk(List<PromptFragment> fragments) {
		Builder b = new Builder();
		for (PromptFragment fragment : fragments) {
			if (fragment.isBreak()) {
				b.nextChunk();
				continue;
			}
			float weight = (float) fragment.weight();
			int[] tokens = tokenizer.encode(fragment.text());
			for (int i = 0; i < tokens.length;) {
				int token = tokens[i];
				if (token == commaToken) {
					b.lastComma = b.size;
				}
				else if (b.size == chunkLength && b.lastComma != -1 && b.size - b.lastComma <= COMMA_BACKTRACK) {
					b.moveAfterLastCommaToNextChunk();
				}
				if (b.size == chunkLength) b.nextChunk();
				TriggerWords.Match m = triggers.isEmpty() ? null : triggers.at(tokens, i);
				if (m == null) {
					b.add(token, weight);
					i++;
					continue;
				}
				int[] ids = TriggerWords.ids(m);
				if (ids.length > chunkLength) {
					throw new StableDiffusionException("The embedding '" + m.word().name() + "' has "
						+ ids.length + " vectors, more than the " + chunkLength + " tokens of a prompt chunk.");
				}
				if (b.size + ids.length > chunkLength) b.nextChunk();
				for (int id : ids) b.add(id, weight);
				i += m.length();
			}
		}
		if (b.size > 0 || b.chunks.isEmpty()) b.nextChunk();
		return Collections.unmodifiableList(b.chunks);
	}

	/** The chunk of the empty prompt: start, end, padding, all weights 1 (A1111's filler for shorter prompts). */
	public TokenChunk emptyChunk() {
		return finish(new int[0], new float[0]);
	}

	/** The chunks followed by empty chunks up to {@code count}. */
	public List<TokenChunk> padTo(List<TokenChunk> chunks, int count) {
		if (chunks.size() >= count) return chunks;
		List<TokenChunk> padded = new ArrayList<>(chunks);
		TokenChunk empty = emptyChunk();
		while (padded.size() < count) padded.add(empty);
		return Collections.unmodifiableList(padded);
	}

	/** Chunks of prompt and negative prompt, the shorter padded with empty chunks to the other's count. */
	public Pair chunkPair(String prompt, String negativePrompt) {
		List<TokenChunk> p = chunk(prompt);
		List<TokenChunk> n = chunk(negativePrompt == null ? "" : negativePrompt);
		int count = Math.max(p.size(), n.size());
		return new Pair(padTo(p, count), padTo(n, count));
	}

	/** Start + tokens + end + padding; weights 1 for the added positions. */
	private TokenChunk finish(int[] tokens, float[] weights) {
		int[] ids = tokenizer.withSpecialTokens(tokens, true);
		float[] w = new float[ids.length];
		Arrays.fill(w, 1f);
		System.arraycopy(weights, 0, w, 1, weights.length);
		return new TokenChunk(ids, w);
	}

	/** The chunk being filled, and the finished ones. */
	private final class Builder {
		final List<TokenChunk> chunks = new ArrayList<>();
		final int[] tokens = new int[chunkLength];
		final float[] weights = new float[chunkLength];
		int size;
		/** Position of the last comma in the current chunk, -1 if none. */
		int lastComma = -1;

		void add(int token, float weight) {
			tokens[size] = token;
			weights[size] = weight;
			size++;
		}

		void nextChunk() {
			chunks.add(finish(Arrays.copyOf(tokens, size), Arrays.copyOf(weights, size)));
			size = 0;
			lastComma = -1;
		}

		void moveAfterLastCommaToNextChunk() {
			int from = lastComma + 1;
			int[] movedTokens = Arrays.copyOfRange(tokens, from, size);
			float[] movedWeights = Arrays.copyOfRange(weights, from, size);
			size = from;
			nextChunk();
			for (int i = 0; i < movedTokens.length; i++) add(movedTokens[i], movedWeights[i]);
		}
	}
}
