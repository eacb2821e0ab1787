package sc.fiji.sd.ij1;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * The settings table's fields in ImageJ 1.x's recorder ({@link SettingsRecordingUnderXvfb}): a changed setting is
 * recorded at the end of the line, after device (the defaults are not, so lines without them keep their form, as
 * {@link PlainImageJXvfbTest} pins), and the replay uses it. Skipped where xvfb-run is missing.
 */
class SettingsRecordingTest {

	@Test
	void aChangedSettingIsRecordedAfterTheOtherKeysAndReplayed() throws Exception {
		assumeTrue(PlainImageJXvfbTest.onPath("xvfb-run") && PlainImageJXvfbTest.onPath("timeout"),
			"xvfb-run or timeout not found: install Xvfb (apt-get install xvfb xauth) to run the recording test");
		String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
		String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
		Process p = new ProcessBuilder("timeout", "300", "xvfb-run", "-a", javaBin, "-Xmx2g", "-cp", cp,
			SettingsRecordingUnderXvfb.class.getName(), SmallModel.folder().toString()).redirectErrorStream(true).start();
		String printed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertTrue(p.waitFor(330, TimeUnit.SECONDS) && p.exitValue() == 0, printed);
		assertTrue(printed.contains(" model=[] device=default original_size=96x80 aesthetic_score=9\");"), printed);
		assertTrue(printed.contains("Original size: 96x80, Aesthetic score: 9"), "the replay used them: " + printed);
		assertTrue(printed.contains("IDENTICAL true"), printed);
	}
}
