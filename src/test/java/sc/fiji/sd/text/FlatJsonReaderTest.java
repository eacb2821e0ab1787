package sc.fiji.sd.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

/** The vocab.json reader: JSON string escapes as JSON defines them, anything but a flat object refused. */
class FlatJsonReaderTest {

	@Test
	void readsEscapedAndPlainKeys() {
		String json = "\uFEFF{ \"a</w>\": 1,\n \"\\u0120the\": 2, \"\\\"q\\\\\": 3, \"\\/\\n\": -4 }\n";
		assertEquals(Map.of("a</w>", 1, "\u0120the", 2, "\"q\\", 3, "/\n", -4),
			new FlatJsonReader(json).readTokenIds());
	}

	@Test
	void emptyObjectIsEmpty() {
		assertTrue(new FlatJsonReader(" {} ").readTokenIds().isEmpty());
	}

	@Test
	void refusesWhatIsNotAFlatObjectOfIntegers() {
		for (String bad : new String[] { "", "[1]", "{\"a\": 1", "{\"a\": \"1\"}", "{\"a\": 1.5}", "{\"a\": 1} x",
			"{\"a\" 1}", "{\"\\x\": 1}", "{\"a\": 1,}" })
		{
			assertThrows(IllegalStateException.class, () -> new FlatJsonReader(bad).readTokenIds(), bad);
		}
	}
}
