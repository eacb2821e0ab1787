package sc.fiji.sd.ij1;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * An interactive ControlNet run recorded by ImageJ 1.x's macro recorder under Xvfb ({@link
 * ControlNetRecordingUnderXvfb}): the recorded line names every control key, and replayed on the same selection it
 * gives the same pixels. Skipped where xvfb-run is missing.
 */
class ControlNetRecordingTest {

	@Test
	void theRecordedControlLineReplaysToTheSamePixels() throws Exception {
		Path controlNet = sc.fiji.sd.pipeline.TestModels.controlNet("controlnet-scale").toAbsolutePath();
		String printed = PlainImageJXvfbTest.runClassUnderXvfb(ControlNetRecordingUnderXvfb.class, List.of(), Map.of(),
			SmallModel.folder("controlnet").toString(), controlNet.toString());
		assertTrue(printed.contains("RECORDED run(\"Text to Image...\", \"prompt=[a red circle] ") && printed.contains(
			" control=selection control_type=none controlnet=" + bracketed(controlNet) + " control_scale=1 control_start=0 "
				+ "control_end=1 control_low=100 control_high=200 model=[] device=default\");"), printed);
		assertTrue(printed.contains("TITLE a red circle (seed "), printed);
		assertTrue(printed.contains("SELECTION java.awt.Rectangle[x=12,y=20,width=36,height=24]"), "kept: " + printed);
		assertTrue(printed.contains("IDENTICAL true"), printed);
	}

	/** As the recorder writes a value: in brackets only when it has a space. */
	private static String bracketed(Path path) {
		return path.toString().contains(" ") ? "[" + path + "]" : path.toString();
	}
}
