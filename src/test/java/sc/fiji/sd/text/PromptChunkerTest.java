package sc.fiji.sd.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Chunking weighted prompts into 77-id windows with A1111's rules. */
class PromptChunkerTest {

	static ClipTokenizer tokenizer;
	static PromptChunker chunker;
	static int start, end, cat, comma;

	@BeforeAll
	static void load() {
		tokenizer = ClipTokenizer.load(ClipTokenizerTest.BUNDLED);
		chunker = new PromptChunker(tokenizer);
		start = tokenizer.bosToken();
		end = tokenizer.eosToken();
		cat = single("cat");
		comma = single(",");
	}

	/** The id of a word that is one token. */
	static int single(String word) {
		int[] ids = tokenizer.encode(word);
		assertEquals(1, ids.length, word + " is one token");
		return ids[0];
	}

	static String cats(int n) {
		return "cat ".repeat(n);
	}

	@Test
	void shortUnweightedPromptIsTheTokenizersInput() {
		List<TokenChunk> chunks = chunker.chunk("a photo of a cat");
		assertEquals(1, chunks.size());
		assertArrayEquals(tokenizer.inputIds("a photo of a cat"), chunks.get(0).inputIds());
		assertTrue(chunks.get(0).isUnweighted());
		assertEquals(77, chunks.get(0).weights().length);
	}

	@Test
	void eachTokenCarriesItsFragmentsWeight() {
		TokenChunk chunk = chunker.chunk("a (red:1.5) [circle]").get(0);
		assertArrayEquals(tokenizer.inputIds("a red circle"), chunk.inputIds());
		float[] expected = new float[77];
		Arrays.fill(expected, 1f);
		expected[2] = 1.5f; // start, "a", "red"
		expected[3] = (float) (1 / 1.1); // "circle"
		assertArrayEquals(expected, chunk.weights());
		assertFalse(chunk.isUnweighted());
	}

	@Test
	void emptyPromptIsOneEmptyChunk() {
		List<TokenChunk> chunks = chunker.chunk("");
		assertEquals(List.of(chunker.emptyChunk()), chunks);
		assertEquals(start, chunks.get(0).inputIds()[0]);
		assertTrue(Arrays.stream(chunks.get(0).inputIds(), 1, 77).allMatch(id -> id == end));
	}

	@Test
	void breakClosesTheChunk() {
		List<TokenChunk> chunks = chunker.chunk("a cat BREAK (cat)");
		assertEquals(2, chunks.size());
		assertArrayEquals(tokenizer.inputIds("a cat"), chunks.get(0).inputIds());
		assertArrayEquals(tokenizer.inputIds("cat"), chunks.get(1).inputIds());
		assertEquals(1.1f, chunks.get(1).weights()[1]);
	}

	@Test
	void leadingBreakLeavesAnEmptyFirstChunkTrailingBreakAddsNone() {
		assertEquals(List.of(chunker.emptyChunk(), chunker.chunk("cat").get(0)), chunker.chunk("BREAK cat"));
		assertEquals(chunker.chunk("cat"), chunker.chunk("cat BREAK"));
	}

	@Test
	void seventyFiveTokensFitOneChunkTheSeventySixthStartsAnother() {
		assertEquals(1, chunker.chunk(cats(75)).size());
		List<TokenChunk> chunks = chunker.chunk(cats(76));
		assertEquals(2, chunks.size());
		assertEquals(cat, chunks.get(0).inputIds()[75]);
		assertEquals(end, chunks.get(0).inputIds()[76]);
		assertArrayEquals(tokenizer.inputIds("cat"), chunks.get(1).inputIds());
	}

	@Test
	void aCommaWithinTheLastTwentyTokensMovesTheRestToTheNextChunk() {
		// 70 cats, a comma at position 70, then 10 cats: the 4 cats after the comma move on with the next 6.
		List<TokenChunk> chunks = chunker.chunk(cats(70) + ", " + cats(4) + "(" + cats(6) + ")");
		assertEquals(2, chunks.size());
		int[] first = chunks.get(0).inputIds();
		assertEquals(comma, first[71]);
		assertEquals(end, first[72]);
		int[] second = chunks.get(1).inputIds();
		assertTrue(Arrays.stream(second, 1, 11).allMatch(id -> id == cat));
		assertEquals(end, second[11]);
		float[] w = chunks.get(1).weights();
		assertEquals(1f, w[4], "moved tokens keep their weight");
		assertEquals(1.1f, w[5], "tokens of the bracket keep theirs");
		assertEquals(1f, w[11]);
	}

	@Test
	void aCommaFurtherBackDoesNotMoveAnything() {
		List<TokenChunk> chunks = chunker.chunk(cats(50) + ", " + cats(30));
		assertEquals(2, chunks.size());
		assertEquals(comma, chunks.get(0).inputIds()[51]);
		assertEquals(cat, chunks.get(0).inputIds()[75]);
		int[] second = chunks.get(1).inputIds();
		assertTrue(Arrays.stream(second, 1, 7).allMatch(id -> id == cat));
		assertEquals(end, second[7]);
	}

	@Test
	void negativePromptIsPaddedWithEmptyChunksToThePromptsCount() {
		PromptChunker.Pair pair = chunker.chunkPair(cats(100), "blurry");
		assertEquals(2, pair.prompt().size());
		assertEquals(List.of(chunker.chunk("blurry").get(0), chunker.emptyChunk()), pair.negative());
		PromptChunker.Pair reverse = chunker.chunkPair("", cats(160));
		assertEquals(3, reverse.negative().size());
		assertEquals(List.of(chunker.emptyChunk(), chunker.emptyChunk(), chunker.emptyChunk()), reverse.prompt());
	}
	// -- textual inversion: trigger words become their embedding's ids (A1111's sd_hijack_clip rules)

	static TriggerWords triggers(String word, int... ids) {
		return new TriggerWords(List.of(new TriggerWords.Word(word, tokenizer.encode(word), ids, null)));
	}

	@Test
	void aTriggerWordBecomesItsVectorsIdsAtTheFragmentsWeight() {
		PromptChunker ti = new PromptChunker(tokenizer, triggers("shapeword", 50000, 50001, 50002));
		TokenChunk chunk = ti.chunk("a (shapeword:1.3) circle").get(0);
		int a = single("a"), circle = single("circle");
		assertArrayEquals(new int[] { start, a, 50000, 50001, 50002, circle, end }, Arrays.copyOf(chunk.inputIds(), 7));
		assertArrayEquals(new float[] { 1, 1, 1.3f, 1.3f, 1.3f, 1, 1 }, Arrays.copyOf(chunk.weights(), 7));
	}

	@Test
	void aTriggerThatIsAVocabularyWordIsTheEmbeddingAndTheLongestMatchWins() {
		var words = new TriggerWords(List.of(new TriggerWords.Word("cat", tokenizer.encode("cat"), new int[] { 50000 }, null),
			new TriggerWords.Word("cat cat", tokenizer.encode("cat cat"), new int[] { 50001, 50002 }, null)));
		TokenChunk chunk = new PromptChunker(tokenizer, words).chunk("cat cat cat").get(0);
		assertArrayEquals(new int[] { start, 50001, 50002, 50000, end }, Arrays.copyOf(chunk.inputIds(), 5));
	}

	@Test
	void anEmbeddingsVectorsCountTowardTheChunkAndAreNotSplit() {
		PromptChunker ti = new PromptChunker(tokenizer, triggers("shapeword", 50000, 50001, 50002));
		// 73 cats leave 2 places: the 3 vectors go to the next chunk whole
		List<TokenChunk> chunks = ti.chunk(cats(73) + "shapeword");
		assertEquals(2, chunks.size());
		assertEquals(end, chunks.get(0).inputIds()[74]);
		assertArrayEquals(new int[] { start, 50000, 50001, 50002, end }, Arrays.copyOf(chunks.get(1).inputIds(), 5));
		// 72 cats leave 3: they fit
		assertEquals(1, ti.chunk(cats(72) + "shapeword").size());
	}

	@Test
	void aTriggerWhoseEmbeddingCannotBeUsedIsRefusedWithTheReason() {
		var words = new TriggerWords(List.of(new TriggerWords.Word("wide", tokenizer.encode("wide"), null,
			"its vectors have width 8 and the model's text encoder has width 4.")));
		PromptChunker ti = new PromptChunker(tokenizer, words);
		var e = org.junit.jupiter.api.Assertions.assertThrows(sc.fiji.sd.StableDiffusionException.class,
			() -> ti.chunk("a wide circle"));
		assertTrue(e.getMessage().contains("'wide'") && e.getMessage().contains("width 8"), e.getMessage());
		assertEquals(1, ti.chunk("a widescreen circle").size(), "only the word's own tokens match");
	}

	@Test
	void theWordsUsedAreFoundInAnyFragment() {
		var words = triggers("shapeword", 50000);
		assertEquals(java.util.Set.of("shapeword"), words.usedIn("a [shapeword] BREAK circle", tokenizer));
		assertTrue(words.usedIn("a circle", tokenizer).isEmpty());
	}
}
