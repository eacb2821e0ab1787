package sc.fiji.sd.text;

import java.util.HashMap;
import java.util.Map;

/**
 * Reads {@code vocab.json}, a flat JSON object of string → integer, several times faster than a general JSON library
 * on a cold JVM (49408 entries are read at every model load). Strict: anything else is an
 * {@link IllegalStateException} with the character position.
 */
final class FlatJsonReader {

	private final String text;
	private int pos;

	FlatJsonReader(String text) {
		this.text = text;
	}

	Map<String, Integer> readTokenIds() {
		Map<String, Integer> map = new HashMap<>(65536);
		if (text.startsWith("\uFEFF")) pos++; // byte-order mark
		skipBlanks();
		expect('{');
		skipBlanks();
		if (peek() == '}') pos++;
		else {
			while (true) {
				skipBlanks();
				String key = readString();
				skipBlanks();
				expect(':');
				skipBlanks();
				map.put(key, readInt());
				skipBlanks();
				char c = next();
				if (c == '}') break;
				if (c != ',') throw error("',' or '}'");
			}
		}
		skipBlanks();
		if (pos != text.length()) throw error("the end of the file");
		return map;
	}

	private String readString() {
		expect('"');
		int start = pos;
		// Fast path: no escapes.
		while (pos < text.length()) {
			char c = text.charAt(pos);
			if (c == '"') return text.substring(start, pos++);
			if (c == '\\') break;
			pos++;
		}
		StringBuilder sb = new StringBuilder(text.substring(start, pos));
		while (true) {
			char c = next();
			if (c == '"') return sb.toString();
			if (c != '\\') {
				sb.append(c);
				continue;
			}
			char e = next();
			switch (e) {
				case '"', '\\', '/' -> sb.append(e);
				case 'b' -> sb.append('\b');
				case 'f' -> sb.append('\f');
				case 'n' -> sb.append('\n');
				case 'r' -> sb.append('\r');
				case 't' -> sb.append('\t');
				case 'u' -> {
					if (pos + 4 > text.length()) throw error("four hex digits");
					try {
						sb.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
					}
					catch (NumberFormatException ex) {
						throw error("four hex digits");
					}
					pos += 4;
				}
				default -> throw error("a JSON escape");
			}
		}
	}

	private int readInt() {
		int start = pos;
		if (peek() == '-') pos++;
		while (pos < text.length() && Character.isDigit(text.charAt(pos)) && text.charAt(pos) < 128) pos++;
		if (pos == start || (pos == start + 1 && text.charAt(start) == '-')) throw error("an integer token id");
		try {
			return Integer.parseInt(text, start, pos, 10);
		}
		catch (NumberFormatException e) {
			throw error("an integer token id");
		}
	}

	private void skipBlanks() {
		while (pos < text.length()) {
			char c = text.charAt(pos);
			if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return;
			pos++;
		}
	}

	private char peek() {
		if (pos >= text.length()) throw error("more text");
		return text.charAt(pos);
	}

	private char next() {
		char c = peek();
		pos++;
		return c;
	}

	private void expect(char c) {
		if (next() != c) {
			pos--;
			throw error("'" + c + "'");
		}
	}

	private IllegalStateException error(String expected) {
		return new IllegalStateException("expected " + expected + " at character " + pos);
	}
}
