package sc.fiji.sd.text;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HTML character references resolved as Python's {@code html.unescape} does, which the reference CLIP tokenizer
 * applies (twice) to every prompt: {@code &amp;} → {@code &}, {@code &#39;} and {@code &#x27;} → {@code '}.
 * <p>
 * All 2231 named references of HTML5, the legacy ones also without their semicolon and as the longest prefix of a
 * longer name ({@code &notit;} → {@code ¬it;}), as Python does; decimal and hexadecimal references with Python's
 * replacements (the Windows-1252 characters for 128–159, U+FFFD for 0, surrogates and values past U+10FFFF, nothing
 * for the control and non-character code points it drops). The table is generated from Python's standard library
 * ({@code tools/model/make_html_entities.py}, resource {@code html-entities.tsv}). Not replicated: Python raising
 * {@code ValueError} for a decimal reference of more than 4300 digits; such a reference is U+FFFD here.
 */
public final class HtmlEntities {

	/** Python's {@code html._charref}: the reference forms it tries, names of at most 32 characters. */
	private static final Pattern REFERENCE = Pattern.compile(
		"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\\t\\n\\f <&#;]{1,32};?)");

	private static final Map<String, String> NAMED = new HashMap<>();
	private static final Map<Integer, String> SPECIAL_NUMBERS = new HashMap<>();

	static {
		try (InputStream in = HtmlEntities.class.getResourceAsStream("html-entities.tsv");
			BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)))
		{
			for (String line; (line = r.readLine()) != null;) {
				if (line.startsWith("# ") || line.isEmpty()) continue;
				int tab = line.indexOf('\t');
				String key = line.substring(0, tab), value = codePoints(line.substring(tab + 1));
				if (key.startsWith("#")) SPECIAL_NUMBERS.put(Integer.parseInt(key.substring(1)), value);
				else NAMED.put(key, value);
			}
		}
		catch (IOException e) {
			throw new UncheckedIOException("Cannot read the HTML entity table", e);
		}
	}

	private HtmlEntities() {}

	private static String codePoints(String hex) {
		StringBuilder sb = new StringBuilder();
		for (String h : hex.split(" ")) if (!h.isEmpty()) sb.appendCodePoint(Integer.parseInt(h, 16));
		return sb.toString();
	}

	/** {@code text} with its character references replaced, as Python's {@code html.unescape(text)}. */
	public static String unescape(String text) {
		if (text.indexOf('&') < 0) return text;
		Matcher m = REFERENCE.matcher(text);
		StringBuilder sb = new StringBuilder(text.length());
		while (m.find()) m.appendReplacement(sb, Matcher.quoteReplacement(replacement(m.group(1))));
		m.appendTail(sb);
		return sb.toString();
	}

	private static String replacement(String s) {
		if (s.charAt(0) == '#') return numeric(s);
		String named = NAMED.get(s);
		if (named != null) return named;
		// the longest name that s starts with (only the legacy names without ';' can match a prefix)
		for (int x = s.length() - 1; x > 1; x--) {
			named = NAMED.get(s.substring(0, x));
			if (named != null) return named + s.substring(x);
		}
		return "&" + s;
	}

	private static String numeric(String s) {
		boolean hex = s.charAt(1) == 'x' || s.charAt(1) == 'X';
		String digits = s.substring(hex ? 2 : 1);
		if (digits.endsWith(";")) digits = digits.substring(0, digits.length() - 1);
		digits = digits.replaceFirst("^0+(?=.)", "");
		// more than 7 digits is past U+10FFFF in either base (0x10FFFF has 6 hex, 1114111 has 7 decimal digits)
		long number = digits.length() > 7 ? Long.MAX_VALUE : Long.parseLong(digits, hex ? 16 : 10);
		if (number <= Integer.MAX_VALUE) {
			String special = SPECIAL_NUMBERS.get((int) number);
			if (special != null) return special;
		}
		if (number >= 0xD800 && number <= 0xDFFF || number > 0x10FFFF) return "\uFFFD";
		return new String(Character.toChars((int) number));
	}
}
