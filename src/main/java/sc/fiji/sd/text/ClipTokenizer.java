package sc.fiji.sd.text;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import sc.fiji.sd.StableDiffusionException;

/**
 * The CLIP tokenizer of Stable Diffusion's text encoder: byte-level BPE exactly as OpenAI's CLIP and diffusers'
 * {@code CLIPTokenizer}, read from a diffusers {@code tokenizer/} folder.
 * <p>
 * Text is NFC-normalised, whitespace runs collapse to one space, the ends are stripped and everything is lower-cased.
 * It is then split like CLIP's pre-tokenizer pattern: the special tokens {@code <|startoftext|>} and
 * {@code <|endoftext|>}, the contractions {@code 's 't 're 've 'm 'll 'd}, runs of letters, single digits, and runs
 * of other non-space symbols. Each piece is written as UTF-8 bytes mapped to printable characters (GPT-2's
 * bytes-to-unicode table), its last character marked with {@code </w>}, and merged pair by pair in the order of
 * {@code merges.txt}. HTML character references are resolved twice, as the reference
 * tokenizer's {@code html.unescape(html.unescape(text))} ({@link HtmlEntities}). Not done: ftfy's text repair (it
 * only matters for mis-decoded text such as {@code Ã©} for {@code é}).
 * <p>
 * Thread-safe: the vocabulary is immutable after {@link #load} and the BPE cache is concurrent.
 */
public final class ClipTokenizer {

	/** CLIP's defaults, used where the folder's JSON files do not say otherwise. */
	public static final String DEFAULT_BOS = "<|startoftext|>";
	public static final String DEFAULT_EOS = "<|endoftext|>";
	public static final int DEFAULT_MAX_LENGTH = 77;

	private static final String END_OF_WORD = "</w>";
	private static final String[] SPECIAL_TOKENS = { DEFAULT_BOS, DEFAULT_EOS };
	private static final String[] CONTRACTIONS = { "'s", "'t", "'re", "'ve", "'m", "'ll", "'d" };
	/** Pieces are cached (as CLIP does) because prompts repeat words; the bound keeps a long Fiji session small. */
	private static final int CACHE_LIMIT = 100_000;

	private static final char[] BYTE_TO_UNICODE = byteToUnicode();

	private final Map<String, Integer> vocab;
	/** Merge rank by "first second" (pieces never contain a plain space: byte 0x20 maps to U+0120). */
	private final Map<String, Integer> mergeRanks;
	private final int bos;
	private final int eos;
	private final int pad;
	private final int unk;
	private final int maxLength;
	private final Map<String, int[]> cache = new ConcurrentHashMap<>();

	private ClipTokenizer(Map<String, Integer> vocab, Map<String, Integer> mergeRanks, int bos, int eos, int pad,
		int unk, int maxLength)
	{
		this.vocab = vocab;
		this.mergeRanks = mergeRanks;
		this.bos = bos;
		this.eos = eos;
		this.pad = pad;
		this.unk = unk;
		this.maxLength = maxLength;
	}

	/**
	 * Reads a diffusers {@code tokenizer/} folder: {@code vocab.json} and {@code merges.txt} (required), and
	 * {@code special_tokens_map.json} / {@code tokenizer_config.json} when present for the bos, eos, unk and pad tokens
	 * and {@code model_max_length}. Without them: CLIP's {@code <|startoftext|>} 49406, {@code <|endoftext|>} 49407,
	 * pad = eos, 77 tokens.
	 *
	 * @throws StableDiffusionException if the folder or a file is missing or unreadable; the message names it
	 */
	public static ClipTokenizer load(Path tokenizerDir) {
		if (tokenizerDir == null || !Files.isDirectory(tokenizerDir)) {
			throw new StableDiffusionException("Tokenizer folder not found: " + tokenizerDir
				+ ". Point to a diffusers model folder that contains tokenizer/vocab.json and tokenizer/merges.txt.");
		}
		Path vocabFile = tokenizerDir.resolve("vocab.json");
		Path mergesFile = tokenizerDir.resolve("merges.txt");
		Map<String, Integer> vocab = readVocab(vocabFile);
		Map<String, Integer> ranks = readMerges(mergesFile);

		// tokenizer_config.json holds the constructor arguments, special_tokens_map.json the final special tokens:
		// read the config first and let the map override it, as transformers does.
		Map<String, String> specials = new HashMap<>();
		int maxLength = DEFAULT_MAX_LENGTH;
		Map<Integer, String> addedTokens = new HashMap<>();
		Path configFile = tokenizerDir.resolve("tokenizer_config.json");
		if (Files.isRegularFile(configFile)) {
			JsonObject config = readJsonObject(configFile);
			readSpecialTokens(config, specials);
			maxLength = readMaxLength(config, configFile);
			readAddedTokens(config, addedTokens);
		}
		Path mapFile = tokenizerDir.resolve("special_tokens_map.json");
		if (Files.isRegularFile(mapFile)) readSpecialTokens(readJsonObject(mapFile), specials);

		String eosText = specials.getOrDefault("eos_token", DEFAULT_EOS);
		int bos = tokenId(specials.getOrDefault("bos_token", DEFAULT_BOS), "bos_token", vocab, addedTokens, tokenizerDir);
		int eos = tokenId(eosText, "eos_token", vocab, addedTokens, tokenizerDir);
		int unk = tokenId(specials.getOrDefault("unk_token", eosText), "unk_token", vocab, addedTokens, tokenizerDir);
		int pad = tokenId(specials.getOrDefault("pad_token", eosText), "pad_token", vocab, addedTokens, tokenizerDir);
		return new ClipTokenizer(vocab, ranks, bos, eos, pad, unk, maxLength);
	}

	/** BPE token ids of the text, without start and end tokens, never truncated. */
	public int[] encode(String text) {
		IntList ids = new IntList(64);
		for (String piece : preTokenize(clean(text))) {
			ids.addAll(bpe(piece));
		}
		return ids.toArray();
	}

	/**
	 * The text encoder's input: start token, the BPE ids, end token, padded to {@link #maxLength()} with
	 * {@link #padToken()}; a longer text keeps its first {@code maxLength - 2} ids so the end token is always there.
	 */
	public int[] inputIds(String text) {
		return withSpecialTokens(encode(text), true);
	}

	/** Start token + ids + end token; with {@code padAndTruncate}, cut to maxLength − 2 ids and padded to maxLength. */
	public int[] withSpecialTokens(int[] ids, boolean padAndTruncate) {
		int keep = padAndTruncate ? Math.min(ids.length, maxLength - 2) : ids.length;
		int length = padAndTruncate ? maxLength : keep + 2;
		int[] out = new int[length];
		out[0] = bos;
		System.arraycopy(ids, 0, out, 1, keep);
		out[keep + 1] = eos;
		Arrays.fill(out, keep + 2, length, pad);
		return out;
	}

	/** Start of text, {@code <|startoftext|>} (49406 in CLIP). */
	public int bosToken() {
		return bos;
	}

	/** End of text, {@code <|endoftext|>} (49407 in CLIP). */
	public int eosToken() {
		return eos;
	}

	/** Padding after the end token: the eos token for SD 1.x, 0 ("!") for SD 2.x. */
	public int padToken() {
		return pad;
	}

	/** Length of the text encoder's input, start and end tokens included (77). */
	public int maxLength() {
		return maxLength;
	}

	/** Number of entries in {@code vocab.json} (49408 for CLIP). */
	public int vocabSize() {
		return vocab.size();
	}

	/** The id of one vocabulary entry (e.g. {@code ",</w>"}), or -1 when it is not in the vocabulary. */
	public int tokenId(String vocabEntry) {
		Integer id = vocab.get(vocabEntry);
		return id == null ? -1 : id;
	}

	// -- text clean-up and pre-tokenization --

	/**
	 * NFC, HTML references resolved twice (CLIP's basic_clean), whitespace runs → one space, ends stripped, lower case
	 * (CLIP's whitespace_clean + lower).
	 */
	static String clean(String text) {
		String nfc = HtmlEntities.unescape(HtmlEntities.unescape(Normalizer.normalize(text, Normalizer.Form.NFC)));
		StringBuilder sb = new StringBuilder(nfc.length());
		boolean pendingSpace = false;
		for (int i = 0; i < nfc.length();) {
			int cp = nfc.codePointAt(i);
			i += Character.charCount(cp);
			if (isSpace(cp)) {
				pendingSpace = sb.length() > 0;
			}
			else {
				if (pendingSpace) sb.append(' ');
				pendingSpace = false;
				sb.appendCodePoint(cp);
			}
		}
		return lowerCase(sb.toString());
	}

	/**
	 * Python's {@code str.lower()}: Java's {@code toLowerCase} except for capital sigma, where Java decides "final
	 * sigma" by word boundaries and Python by Unicode's Final_Sigma rule (Σ after a cased letter, not followed by one,
	 * case-ignorable characters skipped). The two differ e.g. for "ñΣ:z".
	 */
	static String lowerCase(String text) {
		if (text.indexOf('\u03A3') < 0) return text.toLowerCase(Locale.ROOT);
		StringBuilder sb = new StringBuilder(text);
		for (int i = text.indexOf('\u03A3'); i >= 0; i = text.indexOf('\u03A3', i + 1)) {
			sb.setCharAt(i, isFinalSigma(text, i) ? '\u03C2' : '\u03C3');
		}
		return sb.toString().toLowerCase(Locale.ROOT);
	}

	private static boolean isFinalSigma(String text, int index) {
		int j = index;
		int before = -1;
		while (j > 0) {
			int cp = text.codePointBefore(j);
			j -= Character.charCount(cp);
			if (!isCaseIgnorable(cp)) {
				before = cp;
				break;
			}
		}
		if (before < 0 || !isCased(before)) return false;
		j = index + 1;
		while (j < text.length()) {
			int cp = text.codePointAt(j);
			j += Character.charCount(cp);
			if (!isCaseIgnorable(cp)) return !isCased(cp);
		}
		return true;
	}

	private static boolean isCased(int cp) {
		return Character.isLowerCase(cp) || Character.isUpperCase(cp) || Character.isTitleCase(cp);
	}

	/** Unicode's Case_Ignorable: marks, format characters, modifiers, and the word-internal punctuation (' . : ·…). */
	private static boolean isCaseIgnorable(int cp) {
		switch (Character.getType(cp)) {
			case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.FORMAT, Character.MODIFIER_LETTER,
				Character.MODIFIER_SYMBOL:
				return true;
			default:
				break;
		}
		switch (cp) {
			case '\'', '.', ':', 0x00B7, 0x0387, 0x055F, 0x05F4, 0x2018, 0x2019, 0x2024, 0x2027, 0xFE13, 0xFE52,
				0xFE55, 0xFF07, 0xFF0E, 0xFF1A:
				return true;
			default:
				return false;
		}
	}

	/**
	 * CLIP's pattern {@code <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+}
	 * as a scanner: at each start position the alternatives are tried in that order, whitespace between matches
	 * is skipped.
	 */
	static List<String> preTokenize(String text) {
		List<String> pieces = new ArrayList<>();
		int n = text.length();
		int i = 0;
		while (i < n) {
			int cp = text.codePointAt(i);
			if (isSpace(cp)) {
				i += Character.charCount(cp);
				continue;
			}
			String fixed = fixedPieceAt(text, i);
			if (fixed != null) {
				pieces.add(fixed);
				i += fixed.length();
				continue;
			}
			int j = i + Character.charCount(cp);
			if (Character.isLetter(cp)) {
				while (j < n && Character.isLetter(text.codePointAt(j))) j += Character.charCount(text.codePointAt(j));
			}
			else if (!isNumber(cp)) { // a single digit stays alone; other symbols run on
				while (j < n) {
					int c = text.codePointAt(j);
					if (isSpace(c) || Character.isLetter(c) || isNumber(c)) break;
					j += Character.charCount(c);
				}
			}
			pieces.add(text.substring(i, j));
			i = j;
		}
		return pieces;
	}

	private static String fixedPieceAt(String text, int i) {
		for (String s : SPECIAL_TOKENS) {
			if (text.startsWith(s, i)) return s;
		}
		if (text.charAt(i) == '\'') {
			for (String c : CONTRACTIONS) {
				if (text.startsWith(c, i)) return c;
			}
		}
		return null;
	}

	/** Python's {@code str.isspace()}, which CLIP's {@code \s} means: Zs, or bidi class WS, B or S. */
	private static boolean isSpace(int cp) {
		if (Character.getType(cp) == Character.SPACE_SEPARATOR) return true;
		byte bidi = Character.getDirectionality(cp);
		return bidi == Character.DIRECTIONALITY_WHITESPACE || bidi == Character.DIRECTIONALITY_PARAGRAPH_SEPARATOR
			|| bidi == Character.DIRECTIONALITY_SEGMENT_SEPARATOR;
	}

	/** {@code \p{N}}: decimal digits, letter numbers (Ⅻ) and other numbers (², ½). */
	private static boolean isNumber(int cp) {
		int type = Character.getType(cp);
		return type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER
			|| type == Character.OTHER_NUMBER;
	}

	// -- byte-level BPE --

	/** Token ids of one pre-tokenized piece (cached). */
	private int[] bpe(String piece) {
		int[] cached = cache.get(piece);
		if (cached != null) return cached;
		int[] ids;
		if (piece.equals(DEFAULT_BOS) || piece.equals(DEFAULT_EOS)) {
			ids = new int[] { vocabId(piece) }; // special tokens typed in the text are kept whole
		}
		else {
			List<String> word = mergePairs(initialSymbols(piece));
			ids = new int[word.size()];
			for (int k = 0; k < ids.length; k++) ids[k] = vocabId(word.get(k));
		}
		if (cache.size() >= CACHE_LIMIT) cache.clear();
		cache.put(piece, ids);
		return ids;
	}

	/** One symbol per UTF-8 byte (as printable characters), the last one marked as end of word. */
	private static List<String> initialSymbols(String piece) {
		byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
		List<String> symbols = new ArrayList<>(bytes.length);
		for (byte b : bytes) symbols.add(String.valueOf(BYTE_TO_UNICODE[b & 0xff]));
		int last = symbols.size() - 1;
		symbols.set(last, symbols.get(last) + END_OF_WORD);
		return symbols;
	}

	/** Repeatedly merges the adjacent pair with the lowest rank (all its occurrences, left to right). */
	private List<String> mergePairs(List<String> word) {
		while (word.size() > 1) {
			int bestRank = Integer.MAX_VALUE;
			String bestFirst = null;
			String bestSecond = null;
			for (int k = 0; k + 1 < word.size(); k++) {
				Integer rank = mergeRanks.get(word.get(k) + ' ' + word.get(k + 1));
				if (rank != null && rank < bestRank) {
					bestRank = rank;
					bestFirst = word.get(k);
					bestSecond = word.get(k + 1);
				}
			}
			if (bestFirst == null) break;
			List<String> merged = new ArrayList<>(word.size());
			for (int k = 0; k < word.size(); k++) {
				if (k + 1 < word.size() && word.get(k).equals(bestFirst) && word.get(k + 1).equals(bestSecond)) {
					merged.add(bestFirst + bestSecond);
					k++;
				}
				else {
					merged.add(word.get(k));
				}
			}
			word = merged;
		}
		return word;
	}

	private int vocabId(String symbol) {
		Integer id = vocab.get(symbol);
		return id == null ? unk : id; // cannot happen with CLIP's vocabulary: every byte and byte</w> is in it
	}

	/**
	 * GPT-2/CLIP's reversible byte → character table: printable Latin-1 bytes map to themselves, the others
	 * (controls, space, soft hyphen…) to U+0100 onwards in byte order, so BPE symbols never contain whitespace.
	 */
	private static char[] byteToUnicode() {
		char[] table = new char[256];
		int next = 0;
		for (int b = 0; b < 256; b++) {
			boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
			table[b] = printable ? (char) b : (char) (256 + next++);
		}
		return table;
	}

	// -- reading the tokenizer folder --

	private static Map<String, Integer> readVocab(Path file) {
		try {
			String json = Files.readString(file, StandardCharsets.UTF_8);
			Map<String, Integer> vocab = new FlatJsonReader(json).readTokenIds();
			if (vocab.isEmpty()) throw new IllegalStateException("no tokens");
			return vocab;
		}
		catch (NoSuchFileException e) {
			throw missing(file);
		}
		catch (IOException | RuntimeException e) {
			throw broken(file, "a JSON object of token → id", e);
		}
	}

	private static Map<String, Integer> readMerges(Path file) {
		try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
			Map<String, Integer> ranks = new HashMap<>(65536);
			String line;
			int lineNumber = 0;
			while ((line = reader.readLine()) != null) {
				lineNumber++;
				if (line.isBlank() || (lineNumber == 1 && line.startsWith("#version"))) continue;
				int space = line.indexOf(' ');
				if (space <= 0 || space == line.length() - 1 || line.indexOf(' ', space + 1) >= 0) {
					throw new IllegalStateException("line " + lineNumber + " is not two symbols separated by a space");
				}
				ranks.putIfAbsent(line, ranks.size());
			}
			if (ranks.isEmpty()) throw new IllegalStateException("no merges");
			return ranks;
		}
		catch (NoSuchFileException e) {
			throw missing(file);
		}
		catch (IOException | RuntimeException e) {
			throw broken(file, "one merge per line, \"first second\"", e);
		}
	}

	private static JsonObject readJsonObject(Path file) {
		try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
			return JsonParser.parseReader(reader).getAsJsonObject();
		}
		catch (IOException | JsonParseException | IllegalStateException e) {
			throw broken(file, "a JSON object", e);
		}
	}

	/** Special tokens are written either as a string or as an AddedToken object with a "content" field. */
	private static void readSpecialTokens(JsonObject json, Map<String, String> specials) {
		for (String key : new String[] { "bos_token", "eos_token", "unk_token", "pad_token" }) {
			JsonElement value = json.get(key);
			if (value == null || value.isJsonNull()) continue;
			if (value.isJsonPrimitive()) specials.put(key, value.getAsString());
			else if (value.isJsonObject() && value.getAsJsonObject().has("content")) {
				specials.put(key, value.getAsJsonObject().get("content").getAsString());
			}
		}
	}

	/** Newer tokenizer_config.json files list special tokens as "added_tokens_decoder": {"id": {"content": …}}. */
	private static void readAddedTokens(JsonObject config, Map<Integer, String> addedTokens) {
		JsonElement decoder = config.get("added_tokens_decoder");
		if (decoder == null || !decoder.isJsonObject()) return;
		for (Map.Entry<String, JsonElement> e : decoder.getAsJsonObject().entrySet()) {
			try {
				JsonElement content = e.getValue().getAsJsonObject().get("content");
				if (content != null) addedTokens.put(Integer.parseInt(e.getKey()), content.getAsString());
			}
			catch (RuntimeException ignored) {
				// Not a token entry: it cannot be a special token we look up.
			}
		}
	}

	private static int readMaxLength(JsonObject config, Path file) {
		JsonElement value = config.get("model_max_length");
		if (value == null || value.isJsonNull()) return DEFAULT_MAX_LENGTH;
		double length;
		try {
			length = value.getAsDouble();
		}
		catch (RuntimeException e) {
			throw new StableDiffusionException("model_max_length in " + file + " is not a number: " + value
				+ ". Set it to 77, the CLIP text encoder's length.");
		}
		// transformers writes a huge sentinel (1e30) when no length was set: that means "not set" here.
		if (length > 1_000_000) return DEFAULT_MAX_LENGTH;
		if (length < 2 || length != Math.rint(length)) {
			throw new StableDiffusionException("model_max_length in " + file + " is " + value
				+ "; it must be a whole number of at least 2 (77 for CLIP).");
		}
		return (int) length;
	}

	private static int tokenId(String token, String key, Map<String, Integer> vocab, Map<Integer, String> addedTokens,
		Path dir)
	{
		Integer id = vocab.get(token);
		if (id != null) return id;
		for (Map.Entry<Integer, String> e : addedTokens.entrySet()) {
			if (e.getValue().equals(token)) return e.getKey();
		}
		throw new StableDiffusionException("The " + key + " \"" + token + "\" named in " + dir
			+ " (special_tokens_map.json / tokenizer_config.json) is not in vocab.json. "
			+ "Use the tokenizer folder that came with the model.");
	}

	private static StableDiffusionException missing(Path file) {
		return new StableDiffusionException("Tokenizer file missing: " + file
			+ ". A diffusers tokenizer/ folder needs vocab.json and merges.txt; copy them from the model's download.");
	}

	private static StableDiffusionException broken(Path file, String expected, Exception cause) {
		return new StableDiffusionException("Tokenizer file " + file + " cannot be read (" + cause.getMessage()
			+ "); expected " + expected + ". Replace it with the file from the model's download.", cause);
	}

	/** Growable int array, to avoid boxing every token id. */
	private static final class IntList {
		private int[] data;
		private int size;

		IntList(int capacity) {
			data = new int[capacity];
		}

		void addAll(int[] values) {
			if (size + values.length > data.length) {
				data = Arrays.copyOf(data, Math.max(data.length * 2, size + values.length));
			}
			System.arraycopy(values, 0, data, size, values.length);
			size += values.length;
		}

		int[] toArray() {
			return Arrays.copyOf(data, size);
		}
	}
}
