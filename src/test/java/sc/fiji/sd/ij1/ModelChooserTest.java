package sc.fiji.sd.ij1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import sc.fiji.sd.imagej.ModelDownloads;
import sc.fiji.sd.model.ModelCatalog;

/** The Settings drop-down's entries and the model-field values they stand for. */
class ModelChooserTest {

	@Test
	void entriesShowTheModelAndFillTheFieldWithWhatMacrosTake() {
		ModelCatalog.LocalModel folder = new ModelCatalog.LocalModel("sd15", null, Path.of("/models/sd15"), "/models",
			"SD 1.x", "text to image", "float16", 2_100_000_000L);
		ModelChooser chooser = new ModelChooser(List.of(folder));
		assertEquals(List.of(ModelDownloads.SHIPPED, "sd15  [SD 1.x, text to image, float16, 2.0 GB]", ModelChooser.OTHER),
			chooser.labels());
		assertEquals("", chooser.valueFor(ModelDownloads.SHIPPED));
		assertEquals(Path.of("/models/sd15").toString(), chooser.valueFor(chooser.labels().get(1)));
		assertNull(chooser.valueFor(ModelChooser.OTHER), "other: the field keeps what was typed");
		assertEquals(chooser.labels().get(1), chooser.labelFor(Path.of("/models/sd15").toString()));
		assertEquals(ModelDownloads.SHIPPED, chooser.labelFor(""));
		assertTrue(chooser.labelFor("/elsewhere").equals(ModelChooser.OTHER));
	}

	@Test
	void theGenerationDialogsEmptyEntryStandsForTheSettingsModel() {
		ModelCatalog.LocalModel folder = new ModelCatalog.LocalModel("sd15", null, Path.of("/models/sd15"), "/models",
			"SD 1.x", "text to image", "float16", 2_100_000_000L);
		ModelChooser chooser = new ModelChooser(List.of(folder), ModelChooser.AS_IN_SETTINGS);
		assertEquals(ModelChooser.AS_IN_SETTINGS, chooser.labels().get(0));
		assertEquals("", chooser.valueFor(ModelChooser.AS_IN_SETTINGS));
		assertEquals(ModelChooser.AS_IN_SETTINGS, chooser.labelFor(" "));
		assertEquals(chooser.labels().get(1), chooser.labelFor(Path.of("/models/sd15").toString()));
	}
}
