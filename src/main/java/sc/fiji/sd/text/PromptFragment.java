package sc.fiji.sd.text;

/**
 * A piece of a prompt with its emphasis weight, as {@link PromptParser} produces it; or the {@link #BREAK} marker
 * that starts a new 75-token chunk.
 *
 * @param text the text, escapes resolved ({@code \(} is now {@code (}); may be empty
 * @param weight the emphasis multiplier (1.0 = normal; {@code (x)} gives 1.1, {@code [x]} 1/1.1)
 * @param isBreak true only for the {@link #BREAK} marker
 */
public record PromptFragment(String text, double weight, boolean isBreak) {

	/** A1111's {@code BREAK} keyword: the next fragment starts a new chunk. */
	public static final PromptFragment BREAK = new PromptFragment("BREAK", 1.0, true);

	public PromptFragment {
		if (text == null) throw new IllegalArgumentException("text must not be null");
	}

	/** Plain text with a weight. */
	public static PromptFragment of(String text, double weight) {
		return new PromptFragment(text, weight, false);
	}

	@Override
	public String toString() {
		return isBreak ? "BREAK" : "(\"" + text + "\", " + weight + ")";
	}
}
