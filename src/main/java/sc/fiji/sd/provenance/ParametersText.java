package sc.fiji.sd.provenance;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An A1111 {@code parameters} text read back: the prompt, the negative prompt and the {@code key: value} pairs of
 * the last line, as {@link Provenance#parameters} writes them (and as A1111's "PNG Info" reads them: the last line
 * holds the pairs, a line starting with {@code Negative prompt: } starts the negative prompt, values may be quoted).
 */
public final class ParametersText {

	/** One {@code key: value} pair; a value is quoted when it holds a comma. */
	private static final Pattern PAIR = Pattern.compile("\\s*([\\w ]+):\\s*(\"(?:\\\\.|[^\\\\\"])*\"|[^,]*)(?:,|$)");
	private static final String NEGATIVE = "Negative prompt: ";

	private final String prompt;
	private final String negativePrompt;
	private final Map<String, String> values;

	private ParametersText(String prompt, String negativePrompt, Map<String, String> values) {
		this.prompt = prompt;
		this.negativePrompt = negativePrompt;
		this.values = Collections.unmodifiableMap(values);
	}

	/** Reads a parameters text; a text without a {@code Steps:} line has only a prompt. */
	public static ParametersText parse(String text) {
		String t = text == null ? "" : text.strip();
		int lastBreak = t.lastIndexOf('\n');
		String last = t.substring(lastBreak + 1);
		Map<String, String> values = new LinkedHashMap<>();
		String head = t;
		if (last.startsWith("Steps: ")) {
			head = lastBreak < 0 ? "" : t.substring(0, lastBreak);
			Matcher m = PAIR.matcher(last);
			while (m.find() && m.end() > m.start()) {
				String v = m.group(2).trim();
				if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
					v = v.substring(1, v.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
				}
				values.put(m.group(1).trim(), v);
			}
		}
		int negative = head.startsWith(NEGATIVE) ? 0 : head.indexOf("\n" + NEGATIVE);
		if (negative < 0) return new ParametersText(head, "", values);
		int from = negative == 0 ? NEGATIVE.length() : negative + 1 + NEGATIVE.length();
		return new ParametersText(head.substring(0, negative), head.substring(from), values);
	}

	public String prompt() { return prompt; }
	public String negativePrompt() { return negativePrompt; }
	/** The pairs of the last line, in their order. */
	public Map<String, String> values() { return values; }

	/** The value of {@code key}, or null. */
	public String get(String key) { return values.get(key); }
}
