package sc.fiji.sd.text;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import sc.fiji.sd.StableDiffusionException;

/**
 * The trigger words of textual-inversion embeddings, as token sequences, and the token ids that replace them: the
 * rows the embeddings' vectors were appended at in the text encoder's token table. Matched on tokens, as A1111 does
 * ({@code find_embedding_at_position}): the word's own BPE tokens anywhere in a prompt fragment, the longest match
 * first; so a trigger that is also a vocabulary word ({@code cat}) is the embedding. A word whose embedding could
 * not be applied (another width, a pickle file, an unreadable file) is kept with the reason, and refused when used.
 */
public final class TriggerWords {

	/**
	 * One trigger word.
	 *
	 * @param name the embedding's name (file name without extension), for messages and {@code TI hashes}
	 * @param tokens the word's BPE tokens
	 * @param ids the token ids its vectors have in the text encoder, one per vector; null when it cannot be used
	 * @param refusal why it cannot be used (when {@code ids} is null)
	 */
	public record Word(String name, int[] tokens, int[] ids, String refusal) {}

	/** A match at a position: the word and how many prompt tokens it covers. */
	public record Match(Word word, int length) {}

	public static final TriggerWords NONE = new TriggerWords(List.of());

	private final List<Word> words;

	/** The words, matched longest first. */
	public TriggerWords(List<Word> words) {
		List<Word> sorted = new ArrayList<>(words);
		sorted.removeIf(w -> w.tokens().length == 0);
		sorted.sort(Comparator.comparingInt((Word w) -> -w.tokens().length));
		this.words = List.copyOf(sorted);
	}

	public boolean isEmpty() { return words.isEmpty(); }

	public List<Word> words() { return words; }

	/** The word whose tokens start at {@code tokens[at]}, or null. */
	public Match at(int[] tokens, int at) {
		for (Word w : words) {
			int n = w.tokens().length;
			if (at + n <= tokens.length && Arrays.equals(tokens, at, at + n, w.tokens(), 0, n)) return new Match(w, n);
		}
		return null;
	}

	/** The replacement ids of a match, or the refusal of a word that cannot be used. */
	public static int[] ids(Match m) {
		if (m.word().ids() == null) {
			throw new StableDiffusionException("The prompt uses the embedding '" + m.word().name() + "', but "
				+ m.word().refusal());
		}
		return m.word().ids();
	}

	/**
	 * The names of the embeddings {@code prompt} (A1111 syntax) uses, in order of first use.
	 *
	 * @throws StableDiffusionException when it uses a word whose embedding cannot be used (with the reason)
	 */
	public Set<String> usedIn(String prompt, ClipTokenizer tokenizer) {
		Set<String> used = new LinkedHashSet<>();
		if (words.isEmpty() || prompt == null) return used;
		for (PromptFragment f : PromptParser.parse(prompt)) {
			if (f.isBreak()) continue;
			int[] tokens = tokenizer.encode(f.text());
			for (int i = 0; i < tokens.length;) {
				Match m = at(tokens, i);
				if (m == null) i++;
				else {
					ids(m);
					used.add(m.word().name());
					i += m.length();
				}
			}
		}
		return used;
	}
}
