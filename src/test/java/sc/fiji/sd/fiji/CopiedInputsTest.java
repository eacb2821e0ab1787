package sc.fiji.sd.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * The deliberate copies of Fiji command inputs (diffusers' "Copied from" habit): a block marked
 * {@code // Copied from TextToImageCommand} must stay identical to the original, so that a change to one command's
 * ControlNet inputs (a label, a default, a range) reaches every command and their macro keys keep meaning the same.
 */
class CopiedInputsTest {

	private static final Path SOURCES = Path.of("src/main/java/sc/fiji/sd/fiji");
	private static final String START = "	// ControlNet (the same keys as the ImageJ 1.x dialog)";
	private static final String END = "	private boolean show_control;";

	/** The lines from {@link #START} through {@link #END} of a command's source. */
	static String controlInputs(String source) {
		int from = source.indexOf(START), to = source.indexOf(END, Math.max(from, 0));
		assertTrue(from >= 0 && to > from, "no ControlNet input block");
		return source.substring(from, to + END.length());
	}

	@Test
	void theControlNetInputsOfImageToImageInpaintAndOutpaintAreTextToImagesOwn() throws Exception {
		String original = controlInputs(Files.readString(SOURCES.resolve("TextToImageCommand.java")));
		for (String copy : List.of("ImageToImageCommand.java", "InpaintCommand.java", "OutpaintCommand.java")) {
			String source = Files.readString(SOURCES.resolve(copy));
			assertTrue(source.contains("// Copied from TextToImageCommand: the ControlNet inputs"), copy + " marks its copy");
			assertEquals(original, controlInputs(source), copy + " differs from TextToImageCommand's ControlNet inputs");
		}
	}

	@Test
	void aChangedCopyIsFound() {
		String original = "x\n" + START + "\n	private double control_scale = 1;\n" + END + "\ny";
		String changed = original.replace("control_scale = 1", "control_scale = 2");
		assertTrue(!controlInputs(original).equals(controlInputs(changed)));
	}
}
