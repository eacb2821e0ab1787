package sc.fiji.sd.provenance;

/**
 * Makes text fit a PNG text chunk. {@code tEXt} holds Latin-1 without control characters except the line feed, and
 * {@code iTXt} (UTF-8) should keep to the same rule; a prompt may hold anything a user pasted.
 * <p>
 * The rule: CR LF and a lone CR become LF; tab, vertical tab and form feed become a space (the CLIP tokenizer reads
 * every whitespace as a space, so the prompt's tokens are the same); every other control character (C0, DEL, C1)
 * is written as the visible escape {@code \\uXXXX}, so the text still shows that something was there.
 */
public final class PngText {

	private PngText() {}

	/** The text with line breaks as LF and no other control character (see the class comment). */
	public static String clean(String text) {
		StringBuilder sb = null;
		for (int i = 0; i < text.length(); i++) {
			char c = text.charAt(i);
			String replacement = null;
			if (c == '\r') replacement = i + 1 < text.length() && text.charAt(i + 1) == '\n' ? "" : "\n";
			else if (c == '\t' || c == 0x0b || c == '\f') replacement = " ";
			else if (c != '\n' && (c < 0x20 || (c >= 0x7f && c <= 0x9f))) replacement = String.format("\\u%04X", (int) c);
			if (replacement == null && sb == null) continue;
			if (sb == null) sb = new StringBuilder(text.length() + 16).append(text, 0, i);
			sb.append(replacement == null ? String.valueOf(c) : replacement);
		}
		return sb == null ? text : sb.toString();
	}
}
