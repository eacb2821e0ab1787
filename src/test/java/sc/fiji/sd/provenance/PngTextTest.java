package sc.fiji.sd.provenance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import net.imglib2.img.array.ArrayImgs;

/** Text chunks never carry raw control characters; Latin-1 text goes to tEXt, other text to iTXt (as A1111). */
class PngTextTest {

	@TempDir
	Path dir;

	@Test
	void lineBreaksBecomeLfWhitespaceASpaceAndOtherControlCharactersVisibleEscapes() {
		assertEquals("a\nb\nc", PngText.clean("a\r\nb\rc"));
		assertEquals("a b c d", PngText.clean("a\tb\u000bc\fd"));
		assertEquals("bell\\u0007 nul\\u0000 del\\u007F c1\\u0085", PngText.clean("bell\u0007 nul\u0000 del\u007f c1\u0085"));
		String plain = "a red circle\nSteps: 20, Sampler: Euler a, Model: tiny-sd-shapes";
		assertTrue(plain == PngText.clean(plain), "clean text is returned as it is");
	}

	@Test
	void aPromptWithControlCharactersIsWrittenCleanAndLatin1GoesToTextOtherTextToInternationalText() throws Exception {
		Map<String, String> text = new LinkedHashMap<>();
		text.put("parameters", "caf\u00e9\ttable\u0007\r\nSteps: 2");
		text.put("Comment", "\u732b and \u0001");
		Path file = dir.resolve("out.png");
		PngWriter.write(file, ArrayImgs.floats(2, 2, 3), text);
		Map<String, String> read = PngReader.readText(file);
		assertEquals("caf\u00e9 table\\u0007\nSteps: 2", read.get("parameters"));
		assertEquals("\u732b and \\u0001", read.get("Comment"));
		String raw = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
		assertTrue(raw.contains("tEXtparameters\0"), "Latin-1 text: tEXt");
		assertTrue(raw.contains("iTXtComment\0"), "not Latin-1: iTXt");
		assertTrue(raw.contains("tEXtparameters\0caf\u00e9 table\\u0007\nSteps: 2"), "the chunk holds the clean text");
	}
}
