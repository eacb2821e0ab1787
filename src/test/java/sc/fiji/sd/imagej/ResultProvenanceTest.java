package sc.fiji.sd.imagej;

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
import sc.fiji.sd.ij1.SmallModel;
import sc.fiji.sd.model.ModelProvider;
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
	void savePngWritesTheSameChunksAsTheCommandLine(@TempDir Path dir) throws Exception {
		ImagePlus imp = generated(1);
		String parameters = "a red circle\nSteps: 2, Sampler: DDIM, CFG scale: 7, Seed: 9, Size: 64x64, Model: tiny-sd-shapes";
		imp.setProperty(Generation.PARAMETERS_PROPERTY, parameters);
		var text = PngReader.readText(Provenance.savePng(imp, dir.resolve("circle.png")));
		assertEquals(sc.fiji.sd.provenance.Provenance.pngText(parameters, "tiny-sd-shapes"), text);
		assertEquals("true", text.get("AI-generated"));
		assertTrue(text.get("Comment").contains("AI-generated") && text.get("Comment").contains("tiny-sd-shapes"),
			text.get("Comment"));
	}

	@Test
	void savePngRefusesAnImageWithoutParametersAndSaysWhatToDo(@TempDir Path dir) {
		var e = assertThrows(StableDiffusionException.class,
			() -> Provenance.savePng(new ImagePlus("plain", new ByteProcessor(4, 4)), dir.resolve("plain.png")));
		assertTrue(e.getMessage().contains("\"plain\" has no Stable Diffusion parameters")
			&& e.getMessage().contains("File › Save As › PNG"), e.getMessage());
		assertTrue(!java.nio.file.Files.exists(dir.resolve("plain.png")));
	}

	@Test
	void theShippedModelUnpackedFromTheJarIsNamedByItsNameInTheInfo(@TempDir Path dir) throws Exception {
		// The jar's model is unpacked into <cache>/stable-diffusion-fiji/models/tiny-sd-shapes-<hash>.
		Path unpacked = dir.resolve("stable-diffusion-fiji/models/tiny-sd-shapes-b014b8");
		copyFolder(SmallModel.folder(), unpacked);
		Parameters p = new Parameters(Mode.TEXT_TO_IMAGE);
		p.prompt = "a red circle";
		p.seed = 1;
		p.steps = 1;
		try (ModelProvider models = new ModelProvider()) {
			ImagePlus imp = new Generation(Generators.open(models, new Settings(unpacked.toString(), "cpu", 0)))
				.run(p, null, new ImageJProgress(false)).image();
			assertTrue(imp.getInfoProperty().contains(", Model: tiny-sd-shapes\n")
				|| imp.getInfoProperty().contains(", Model: tiny-sd-shapes,"), imp.getInfoProperty());
			assertTrue(!imp.getInfoProperty().contains("b014b8"), imp.getInfoProperty());
		}
	}

	private static void copyFolder(Path from, Path to) throws java.io.IOException {
		try (var files = java.nio.file.Files.walk(from)) {
			for (Path f : (Iterable<Path>) files::iterator) {
				Path target = to.resolve(from.relativize(f).toString());
				if (java.nio.file.Files.isDirectory(f)) java.nio.file.Files.createDirectories(target);
				else java.nio.file.Files.copy(f, target);
			}
		}
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
