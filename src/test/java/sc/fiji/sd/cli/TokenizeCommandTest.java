package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/** {@code tokenize} through the real command line, stdout and stderr captured. */
class TokenizeCommandTest {

	/** Exit code and captured output of one {@link Main#run} call. */
	record Result(int exitCode, String out, String err) {}

	static Result run(String... args) {
		PrintStream oldOut = System.out;
		PrintStream oldErr = System.err;
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		ByteArrayOutputStream err = new ByteArrayOutputStream();
		try {
			System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
			System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
			int code = Main.run(args);
			return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
		}
		finally {
			System.setOut(oldOut);
			System.setErr(oldErr);
		}
	}

	static int[] ints(JsonArray array) {
		int[] out = new int[array.size()];
		for (int i = 0; i < out.length; i++) out[i] = array.get(i).getAsInt();
		return out;
	}

	@Test
	void printsIdsAndPaddedInputIdsAsOneJsonLine() {
		Result r = run("tokenize", "--prompt", "a photo of a cat");
		assertEquals(Main.EXIT_OK, r.exitCode(), r.err());
		String line = r.out().strip();
		assertEquals(1, line.lines().count(), "one line: " + r.out());
		JsonObject json = JsonParser.parseString(line).getAsJsonObject();
		// Reference CLIP ids (tokenizer-cases.json): start, a, photo, of, a, cat, end.
		int[] expected = { 49406, 320, 1125, 539, 320, 2368, 49407 };
		assertArrayEquals(expected, ints(json.getAsJsonArray("ids")));
		int[] inputIds = ints(json.getAsJsonArray("input_ids"));
		assertEquals(77, inputIds.length);
		for (int i = 0; i < 77; i++) assertEquals(i < expected.length ? expected[i] : 49407, inputIds[i], "index " + i);
	}

	@Test
	void modelOptionUsesTheModelsTokenizerFolder(@TempDir Path dir) throws Exception {
		Path tokenizer = Files.createDirectories(dir.resolve("tokenizer"));
		for (String file : new String[] { "vocab.json", "merges.txt" }) {
			Files.copy(sc.fiji.sd.model.EmbeddedModel.path().resolve("tokenizer").resolve(file), tokenizer.resolve(file));
		}
		Files.writeString(tokenizer.resolve("special_tokens_map.json"), "{\"pad_token\": \"!\"}");
		Result r = run("tokenize", "--model", dir.toString(), "--prompt", "cat");
		assertEquals(Main.EXIT_OK, r.exitCode(), r.err());
		int[] inputIds = ints(JsonParser.parseString(r.out()).getAsJsonObject().getAsJsonArray("input_ids"));
		assertArrayEquals(new int[] { 49406, 2368, 49407, 0 }, java.util.Arrays.copyOf(inputIds, 4),
			"this model's pad token (0) is used");
	}

	@Test
	void missingPromptIsAUsageError() {
		Result r = run("tokenize");
		assertEquals(Main.EXIT_USAGE, r.exitCode());
		assertTrue(r.err().contains("--prompt"), r.err());
		assertEquals("", r.out());
	}

	@Test
	void badModelFolderIsAnErrorNamingTheFolder(@TempDir Path dir) {
		Path missing = dir.resolve("no-such-model");
		Result r = run("tokenize", "--prompt", "cat", "--model", missing.toString());
		assertEquals(Main.EXIT_ERROR, r.exitCode());
		assertTrue(r.err().contains(missing.toString()), r.err());
		assertTrue(!r.err().contains("Exception"), "no stack trace without --verbose: " + r.err());
	}

	@Test
	void modelFolderWithoutTokenizerIsAnErrorNamingTheFolder(@TempDir Path dir) {
		Result r = run("tokenize", "--prompt", "cat", "--model", dir.toString());
		assertEquals(Main.EXIT_ERROR, r.exitCode());
		assertTrue(r.err().contains(dir.toString()) && r.err().contains("tokenizer"), r.err());
	}
}
