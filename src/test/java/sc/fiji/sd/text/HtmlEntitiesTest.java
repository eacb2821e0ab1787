package sc.fiji.sd.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * HTML character references resolved as Python's {@code html.unescape} does, against Python's own outputs
 * ({@code src/test/resources/clip/html-unescape-cases.json}, written by {@code tools/model/make_html_entities.py}),
 * and the tokenizer's use of it: the reference CLIP tokenizer unescapes twice before BPE.
 */
class HtmlEntitiesTest {

	static Stream<Arguments> pythonCases() throws IOException {
		try (InputStream in = HtmlEntitiesTest.class.getResourceAsStream("/clip/html-unescape-cases.json")) {
			JsonObject root = JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject();
			List<Arguments> cases = new ArrayList<>();
			for (JsonElement e : root.getAsJsonArray("cases")) {
				JsonObject c = e.getAsJsonObject();
				cases.add(Arguments.of(c.get("text").getAsString(), c.get("once").getAsString(),
					c.get("twice").getAsString()));
			}
			return cases.stream();
		}
	}

	@ParameterizedTest(name = "[{index}] \"{0}\"")
	@MethodSource("pythonCases")
	void unescapesAsPythonDoes(String text, String once, String twice) {
		assertEquals(once, HtmlEntities.unescape(text));
		assertEquals(twice, HtmlEntities.unescape(HtmlEntities.unescape(text)));
	}

	@Test
	void tokenizerSeesTheUnescapedText() {
		ClipTokenizer tokenizer = ClipTokenizer.load(ClipTokenizerTest.BUNDLED);
		assertArrayEquals(tokenizer.encode("fish & chips"), tokenizer.encode("fish &amp; chips"));
		assertArrayEquals(tokenizer.encode("it's <b>"), tokenizer.encode("it&#39;s &lt;b&#x3E;"));
		assertArrayEquals(tokenizer.encode("a & b"), tokenizer.encode("a &amp;amp; b"), "unescaped twice, as CLIP");
		assertArrayEquals(tokenizer.encode("café"), tokenizer.encode("caf&eacute;"));
	}
}
