package sc.fiji.sd.ij1;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * The settings table's fields in ImageJ 1.x's recorder ({@link SettingsRecordingUnderXvfb}): a changed setting is
 * recorded at the end of the line, after device (the defaults are not, so lines without them keep their form, as
 * {@link PlainImageJXvfbTest} pins), and the replay uses it. Skipped where xvfb-run is missing.
 */
class SettingsRecordingTest {

	@Test
	void aChangedSettingIsRecordedAfterTheOtherKeysAndReplayed() throws Exception {
		String printed = PlainImageJXvfbTest.runClassUnderXvfb(SettingsRecordingUnderXvfb.class, List.of(), Map.of(),
			SmallModel.folder().toString());
		assertTrue(printed.contains(" model=[] device=default original_size=96x80 aesthetic_score=9\");"), printed);
		assertTrue(printed.contains("Original size: 96x80, Aesthetic score: 9"), "the replay used them: " + printed);
		assertTrue(printed.contains("IDENTICAL true"), printed);
	}
}
