package sc.fiji.sd.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import sc.fiji.sd.StableDiffusionException;

/**
 * The tokenizer against the reference CLIP tokenizer's outputs ({@code src/test/resources/clip/tokenizer-cases.json})
 * using the project's own vocabulary copy in {@code models/tiny-sd-shapes/tokenizer}.
 */
class ClipTokenizerTest {

	/** The bundled tokenizer folder, relative to the repository root (Maven's working directory). */
	static final Path BUNDLED = Paths.get("models", "tiny-sd-shapes", "tokenizer");

	static ClipTokenizer tokenizer;

	@BeforeAll
	static void load() {
		tokenizer = ClipTokenizer.load(BUNDLED);
	}

	static Stream<Arguments> referenceCases() throws IOException {
		try (InputStream in = ClipTokenizerTest.class.getResourceAsStream("/clip/tokenizer-cases.json")) {
			JsonObject root = JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8))
				.getAsJsonObject();
			List<Arguments> cases = new ArrayList<>();
			for (JsonElement e : root.getAsJsonArray("cases")) {
				JsonObject c = e.getAsJsonObject();
				int[] alternative = c.has("ids_without_ftfy") ? ints(c.getAsJsonArray("ids_without_ftfy")) : null;
				String prompt = c.get("prompt").getAsString();
				String label = prompt.length() > 40 ? prompt.substring(0, 40) + "…" : prompt;
				cases.add(Arguments.of(label, prompt, ints(c.getAsJsonArray("ids")), alternative,
					ints(c.getAsJsonArray("input_ids_77"))));
			}
			return cases.stream();
		}
	}

	@ParameterizedTest(name = "[{index}] \"{0}\"")
	@MethodSource("referenceCases")
	void reproducesReferenceTokenizer(String label, String prompt, int[] ids, int[] idsWithoutFtfy,
		int[] inputIds77)
	{
		int[] encoded = tokenizer.encode(prompt);
		int[] withSpecials = tokenizer.withSpecialTokens(encoded, false);
		boolean matches = Arrays.equals(ids, withSpecials)
			|| (idsWithoutFtfy != null && Arrays.equals(idsWithoutFtfy, withSpecials));
		assertTrue(matches, () -> "ids of \"" + prompt + "\": expected " + Arrays.toString(ids) + " but got "
			+ Arrays.toString(withSpecials));
		assertArrayEquals(inputIds77, tokenizer.inputIds(prompt), "input_ids of \"" + prompt + "\"");
	}

	@Test
	void readsSd15SpecialTokensFromTheFolder() {
		assertEquals(49406, tokenizer.bosToken());
		assertEquals(49407, tokenizer.eosToken());
		assertEquals(49407, tokenizer.padToken(), "SD 1.5 pads with <|endoftext|>");
		assertEquals(77, tokenizer.maxLength());
		assertEquals(49408, tokenizer.vocabSize());
		assertEquals(267, tokenizer.tokenId(",</w>"));
	}

	@Test
	void encodeHasNoSpecialTokensAndIsNeverTruncated() {
		String longPrompt = "cat ".repeat(100);
		int[] ids = tokenizer.encode(longPrompt);
		assertEquals(100, ids.length);
		assertTrue(Arrays.stream(ids).allMatch(id -> id == ids[0]));
		int[] input = tokenizer.inputIds(longPrompt);
		assertEquals(77, input.length);
		assertEquals(49406, input[0]);
		assertEquals(ids[0], input[75]);
		assertEquals(49407, input[76]);
	}

	@Test
	void textIsNfcNormalisedBeforeTokenizing() {
		String decomposed = "cafe\u0301"; // e + combining acute accent
		assertArrayEquals(tokenizer.encode("café"), tokenizer.encode(decomposed));
	}

	@Test
	void capitalSigmaLowersLikePython() {
		// Python (which the reference tokenizer runs on) applies Unicode's Final_Sigma rule; Java's toLowerCase uses
		// word boundaries. "ñΣ:z": the colon is case-ignorable and a cased letter follows, so Σ is not final.
		assertEquals("οδος και", ClipTokenizer.lowerCase("ΟΔΟΣ ΚΑΙ"));
		assertEquals("σα", ClipTokenizer.lowerCase("ΣΑ"));
		assertEquals("ñσ:z", ClipTokenizer.lowerCase("ñΣ:z"));
		assertEquals("aς'", ClipTokenizer.lowerCase("aΣ'"));
		assertArrayEquals(tokenizer.encode("οδος"), tokenizer.encode("ΟΔΟΣ"));
	}

	@Test
	void preTokenizerFollowsClipPattern() {
		assertEquals(List.of("it", "'s", "4", "2", "k", "!!'", "s", "<|endoftext|>", "x"),
			ClipTokenizer.preTokenize(ClipTokenizer.clean("  It's\u00a042K !!'s <|ENDOFTEXT|>x ")));
	}

	@Test
	void cachedResultsAreStable() {
		int[] first = tokenizer.encode("fluorescence micrograph");
		int[] second = tokenizer.encode("fluorescence micrograph");
		assertArrayEquals(first, second);
	}

	@Test
	void sd2StylePadTokenComesFromSpecialTokensMap(@TempDir Path dir) throws IOException {
		copyVocabulary(dir);
		Files.writeString(dir.resolve("special_tokens_map.json"),
			"{\"bos_token\": \"<|startoftext|>\", \"eos_token\": \"<|endoftext|>\", \"pad_token\": \"!\", "
				+ "\"unk_token\": \"<|endoftext|>\"}");
		ClipTokenizer sd2 = ClipTokenizer.load(dir);
		assertEquals(0, sd2.padToken());
		int[] input = sd2.inputIds("a photo of a cat");
		assertArrayEquals(new int[] { 49406, 320, 1125, 539, 320, 2368, 49407, 0 }, Arrays.copyOf(input, 8));
		assertEquals(77, input.length);
		assertTrue(Arrays.stream(input, 7, 77).allMatch(id -> id == 0), "everything after the end token is pad 0");
	}

	@Test
	void withoutJsonFilesUsesClipDefaults(@TempDir Path dir) throws IOException {
		copyVocabulary(dir);
		ClipTokenizer plain = ClipTokenizer.load(dir);
		assertEquals(49406, plain.bosToken());
		assertEquals(49407, plain.eosToken());
		assertEquals(49407, plain.padToken());
		assertEquals(77, plain.maxLength());
	}

	@Test
	void modelMaxLengthComesFromTokenizerConfig(@TempDir Path dir) throws IOException {
		copyVocabulary(dir);
		Files.writeString(dir.resolve("tokenizer_config.json"), "{\"model_max_length\": 10}");
		ClipTokenizer shortTokenizer = ClipTokenizer.load(dir);
		assertEquals(10, shortTokenizer.maxLength());
		int[] input = shortTokenizer.inputIds("cat ".repeat(20));
		assertEquals(10, input.length);
		assertEquals(49407, input[9]);
	}

	@Test
	void missingFolderIsExplained(@TempDir Path dir) {
		Path nowhere = dir.resolve("no-such-model");
		StableDiffusionException e = assertThrows(StableDiffusionException.class, () -> ClipTokenizer.load(nowhere));
		assertTrue(e.getMessage().contains(nowhere.toString()), e.getMessage());
	}

	@Test
	void missingMergesNamesTheFile(@TempDir Path dir) throws IOException {
		Files.copy(BUNDLED.resolve("vocab.json"), dir.resolve("vocab.json"));
		StableDiffusionException e = assertThrows(StableDiffusionException.class, () -> ClipTokenizer.load(dir));
		assertTrue(e.getMessage().contains("merges.txt"), e.getMessage());
	}

	@Test
	void brokenVocabNamesTheFile(@TempDir Path dir) throws IOException {
		copyVocabulary(dir);
		Files.writeString(dir.resolve("vocab.json"), "{\"a\": 1, \"b\": ");
		StableDiffusionException e = assertThrows(StableDiffusionException.class, () -> ClipTokenizer.load(dir));
		assertTrue(e.getMessage().contains("vocab.json"), e.getMessage());
	}

	@Test
	void unknownPadTokenNamesTheKey(@TempDir Path dir) throws IOException {
		copyVocabulary(dir);
		Files.writeString(dir.resolve("special_tokens_map.json"), "{\"pad_token\": \"<pad>\"}");
		StableDiffusionException e = assertThrows(StableDiffusionException.class, () -> ClipTokenizer.load(dir));
		assertTrue(e.getMessage().contains("pad_token") && e.getMessage().contains("<pad>"), e.getMessage());
	}

	private static void copyVocabulary(Path dir) throws IOException {
		Files.copy(BUNDLED.resolve("vocab.json"), dir.resolve("vocab.json"));
		Files.copy(BUNDLED.resolve("merges.txt"), dir.resolve("merges.txt"));
	}

	private static int[] ints(JsonArray array) {
		int[] out = new int[array.size()];
		for (int i = 0; i < out.length; i++) out[i] = array.get(i).getAsInt();
		return out;
	}
}
