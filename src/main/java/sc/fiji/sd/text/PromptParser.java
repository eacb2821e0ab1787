package sc.fiji.sd.text;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * AUTOMATIC1111's emphasis syntax: the prompt becomes a list of text fragments with weights.
 * <ul>
 * <li>{@code (word)} multiplies the weight by 1.1, {@code [word]} divides it by 1.1; nesting multiplies, so
 * {@code ((word))} is 1.21.</li>
 * <li>{@code (word:1.3)} sets the multiplier explicitly (spaces allowed around the number).</li>
 * <li>{@code \( \) \[ \] \\} are the literal characters; a backslash before anything else disappears.</li>
 * <li>{@code BREAK} (upper case, as a word of its own) ends the current 75-token chunk.</li>
 * <li>Lenient, as A1111: a bracket left open weights everything after it up to the end ({@code (unbalanced} is
 * 1.1); a closing bracket without an opening one, and a colon that does not end in {@code :number)}, stay literal
 * text ({@code (abc:1.5:2)} is "abc:1.5" × 2).</li>
 * </ul>
 * Adjacent fragments with exactly the same weight are merged. Two deliberate differences from A1111: a weight that is
 * not a number (e.g. {@code (a:1.2.3)}) stays literal text instead of failing, and a {@code BREAK} inside brackets
 * still breaks (A1111 multiplies its marker and then encodes the word "break" with a negative weight).
 */
public final class PromptParser {

	public static final double ROUND_BRACKET_MULTIPLIER = 1.1;
	public static final double SQUARE_BRACKET_MULTIPLIER = 1 / 1.1;

	/**
	 * One lexical element per match, tried in order: escapes, a lone backslash, opening brackets, ":number)",
	 * closing brackets, plain text, a lone colon. Together the alternatives match every character.
	 */
	private static final Pattern ATTENTION = Pattern.compile(
		"\\\\\\(|\\\\\\)|\\\\\\[|\\\\]|\\\\\\\\|\\\\|\\(|\\[|:\\s*([+-]?[.\\d]+)\\s*\\)|\\)|]|[^\\\\()\\[\\]:]+|:",
		Pattern.UNICODE_CHARACTER_CLASS);

	/** BREAK as a word of its own, with the whitespace around it. */
	private static final Pattern BREAK = Pattern.compile("\\s*\\bBREAK\\b\\s*",
		Pattern.UNICODE_CHARACTER_CLASS | Pattern.DOTALL);

	private PromptParser() {}

	/** The weighted fragments of a prompt; never empty (an empty prompt is one empty fragment of weight 1). */
	public static List<PromptFragment> parse(String prompt) {
		List<Entry> res = new ArrayList<>();
		Deque<Integer> roundBrackets = new ArrayDeque<>();
		Deque<Integer> squareBrackets = new ArrayDeque<>();

		Matcher m = ATTENTION.matcher(prompt == null ? "" : ExtraNetworks.strip(prompt)); // <lora:…> is no text
		while (m.find()) {
			String token = m.group();
			Double explicitWeight = m.group(1) == null ? null : parseWeight(m.group(1));
			if (token.startsWith("\\")) {
				res.add(new Entry(token.substring(1)));
			}
			else if (token.equals("(")) {
				roundBrackets.push(res.size());
			}
			else if (token.equals("[")) {
				squareBrackets.push(res.size());
			}
			else if (explicitWeight != null && !roundBrackets.isEmpty()) {
				multiplyFrom(res, roundBrackets.pop(), explicitWeight);
			}
			else if (token.equals(")") && !roundBrackets.isEmpty()) {
				multiplyFrom(res, roundBrackets.pop(), ROUND_BRACKET_MULTIPLIER);
			}
			else if (token.equals("]") && !squareBrackets.isEmpty()) {
				multiplyFrom(res, squareBrackets.pop(), SQUARE_BRACKET_MULTIPLIER);
			}
			else {
				String[] parts = BREAK.split(token, -1);
				for (int i = 0; i < parts.length; i++) {
					if (i > 0) res.add(Entry.breakMarker());
					res.add(new Entry(parts[i]));
				}
			}
		}
		// Brackets still open at the end apply to everything after them; outermost first, round before square, as
		// A1111 does (the order of the multiplications decides the last bit of the weights).
		roundBrackets.descendingIterator()
			.forEachRemaining(start -> multiplyFrom(res, start, ROUND_BRACKET_MULTIPLIER));
		squareBrackets.descendingIterator()
			.forEachRemaining(start -> multiplyFrom(res, start, SQUARE_BRACKET_MULTIPLIER));

		if (res.isEmpty()) res.add(new Entry(""));
		return mergeEqualWeights(res);
	}

	/** A1111 parses with Python's float(); a malformed number (e.g. "1.2.3") is left as text here. */
	private static Double parseWeight(String number) {
		try {
			return Double.parseDouble(number);
		}
		catch (NumberFormatException e) {
			return null;
		}
	}

	private static void multiplyFrom(List<Entry> res, int start, double multiplier) {
		for (int p = start; p < res.size(); p++) {
			if (!res.get(p).isBreak) res.get(p).weight *= multiplier;
		}
	}

	private static List<PromptFragment> mergeEqualWeights(List<Entry> res) {
		List<PromptFragment> out = new ArrayList<>(res.size());
		Entry previous = null;
		for (Entry e : res) {
			if (previous != null && !previous.isBreak && !e.isBreak && previous.weight == e.weight) {
				previous.text.append(e.text);
				continue;
			}
			if (previous != null) out.add(previous.toFragment());
			previous = e;
		}
		out.add(previous.toFragment());
		return out;
	}

	/** Mutable while the brackets are resolved. */
	private static final class Entry {
		final StringBuilder text;
		double weight = 1.0;
		final boolean isBreak;

		Entry(String text) {
			this(text, false);
		}

		private Entry(String text, boolean isBreak) {
			this.text = new StringBuilder(text);
			this.isBreak = isBreak;
		}

		static Entry breakMarker() {
			return new Entry("BREAK", true);
		}

		PromptFragment toFragment() {
			return isBreak ? PromptFragment.BREAK : PromptFragment.of(text.toString(), weight);
		}
	}
}
