package sc.fiji.sd.ij1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ij.IJ;
import ij.ImagePlus;
import ij.io.FileSaver;
import ij.process.ByteProcessor;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;
import sc.fiji.sd.provenance.PngReader;

/** Provenance survives the ways users keep images (TIFF, PNG), and the shared settings behave. */
class ResultProvenanceTest {

	@AfterEach
	void restoreSettings() {
		Settings.defaults().save();
	}

	private static ImagePlus generated(int batch) {
		Parameters p = new Parameters(Mode.TEXT_TO_IMAGE);
		p.prompt = "a red circle";
		p.seed = 9;
		p.steps = 2;
		p.batch = batch;
		return new Generation(new FakeGenerator()).run(p, null, new ImageJProgress(false)).image();
	}

	@Test
	void infoAndParametersSurviveATiffRoundTrip(@TempDir Path dir) {
		ImagePlus imp = generated(2);
		String file = dir.resolve("result.tif").toString();
		new FileSaver(imp).saveAsTiffStack(file);
		ImagePlus reopened = IJ.openImage(file);
		assertTrue(reopened.getInfoProperty().startsWith(Generation.AI_GENERATED), reopened.getInfoProperty());
		assertNull(reopened.getProperty(Generation.PARAMETERS_PROPERTY), "ImageJ does not keep object properties");
		reopened.setSlice(2);
		assertEquals("a red circle\nSteps: 2, Seed: 10, Size: 64x64", Provenance.parameters(reopened),
			"from the slice label");
		ImagePlus single = generated(1);
		new FileSaver(single).saveAsTiff(dir.resolve("single.tif").toString());
		assertEquals("a red circle\nSteps: 2, Seed: 9, Size: 64x64",
			Provenance.parameters(IJ.openImage(dir.resolve("single.tif").toString())), "from the Info text");
	}

	@Test
	void savePngWritesTheParametersChunkAndAddsTheExtension(@TempDir Path dir) throws Exception {
		Path written = Provenance.savePng(generated(1), dir.resolve("circle"));
		assertEquals(dir.resolve("circle.png"), written);
		var text = PngReader.readText(written);
		assertEquals("a red circle\nSteps: 2, Seed: 9, Size: 64x64", text.get("parameters"));
	}

	@Test
	void anImageWithoutProvenanceHasNoParameters() {
		assertNull(Provenance.parameters(new ImagePlus("plain", new ByteProcessor(4, 4))));
	}

	@Test
	void settingsRoundTripThroughImageJPreferencesAndRejectNonsense() {
		new Settings("/models/sd15", "CUDA", 4).save();
		assertEquals(new Settings("/models/sd15", "cuda", 4), Settings.load());
		assertTrue(Settings.defaults().embeddedModel());
		var device = assertThrows(StableDiffusionException.class, () -> new Settings("", "tpu", 0));
		assertTrue(device.getMessage().contains("auto, cpu or cuda"), device.getMessage());
		var folder = assertThrows(StableDiffusionException.class, () -> new Settings("/no/such/model", "cpu", 0)
			.modelPath(null));
		assertTrue(folder.getMessage().contains("/no/such/model does not exist"), folder.getMessage());
	}
}
