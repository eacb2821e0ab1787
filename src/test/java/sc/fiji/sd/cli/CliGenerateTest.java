package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import net.imglib2.img.array.ArrayImgs;
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.provenance.PngReader;
import sc.fiji.sd.provenance.PngWriter;

/** The command line on the embedded model: outputs, their provenance, and the errors that need a model to find. */
class CliGenerateTest {

	@TempDir
	Path dir;

	int nativeSize() {
		return CliRun.MODELS.get(EmbeddedModel.path(), "auto").info().nativeSize();
	}

	Path png(String name, boolean white) {
		int s = nativeSize();
		var img = ArrayImgs.floats(s, s, 3);
		if (white) img.forEach(t -> t.set(1f));
		Path p = dir.resolve(name);
		PngWriter.write(p, img, Map.of());
		return p;
	}

	@Test
	void textToImageWritesAPngWithItsProvenance() throws Exception {
		Path out = dir.resolve("out.png");
		CliRun r = CliRun.of("txt2img", "--prompt", "a red circle on a blue background", "--seed", "1", "--steps", "2",
			"--output", out.toString());
		assertEquals(0, r.exitCode(), r.err());
		assertTrue(r.out().contains("Wrote " + out + " (seed 1)"), r.out());
		Map<String, String> text = PngReader.readText(out);
		String parameters = text.get("parameters");
		assertTrue(parameters.startsWith("a red circle on a blue background\nSteps: 2, Sampler: "), parameters);
		assertTrue(parameters.contains("Seed: 1, Size: " + nativeSize() + "x" + nativeSize() + ", Model: "
			+ EmbeddedModel.path().getFileName()), parameters);
		assertEquals("true", text.get("AI-generated"));
		assertTrue(text.get("Comment").contains("AI-generated"));
	}

	@Test
	void aBatchIsWrittenAsNumberedFiles() {
		Path out = dir.resolve("cat.png");
		CliRun r = CliRun.of("txt2img", "--prompt", "x", "--seed", "3", "--steps", "1", "--batch", "2", "--batch-count",
			"2", "--output", out.toString(), "--verbose");
		assertEquals(0, r.exitCode(), r.err());
		for (int i = 1; i <= 4; i++) assertTrue(Files.exists(dir.resolve("cat-" + i + ".png")));
		assertFalse(Files.exists(out));
		assertTrue(r.out().contains("(seed 6)"), r.out());
		assertTrue(r.err().contains("Variant:"), "--verbose shows the model");
		assertTrue(r.err().contains("4 UNet calls") || r.err().contains("UNet calls"), r.err());
	}

	@Test
	void imageToImageAndInpainting() throws Exception {
		Path out = dir.resolve("i2i.png");
		CliRun r = CliRun.of("img2img", "--prompt", "x", "--image", png("in.png", false).toString(), "--strength",
			"0.5", "--steps", "2", "--seed", "1", "--output", out.toString());
		assertEquals(0, r.exitCode(), r.err());
		assertTrue(PngReader.readText(out).get("parameters").endsWith("Denoising strength: 0.5"));
		Path inpainted = dir.resolve("inp.png");
		r = CliRun.of("inpaint", "--prompt", "x", "--image", png("in.png", false).toString(), "--mask",
			png("mask.png", true).toString(), "--steps", "2", "--seed", "1", "--output", inpainted.toString());
		assertEquals(0, r.exitCode(), r.err());
		assertTrue(Files.exists(inpainted));
	}

	@Test
	void imageToImageInTilesOnAnImageLargerThanTheModel() throws Exception {
		int s = nativeSize();
		Path in = dir.resolve("wide.png"), out = dir.resolve("tiled.png");
		PngWriter.write(in, ArrayImgs.floats(3 * s, 2 * s, 3), Map.of());
		CliRun r = CliRun.of("img2img", "--prompt", "x", "--image", in.toString(), "--strength", "0.5", "--steps", "2",
			"--seed", "1", "--tile", String.valueOf(s), "--tile-overlap", "16", "--output", out.toString());
		assertEquals(0, r.exitCode(), r.err());
		String parameters = PngReader.readText(out).get("parameters");
		assertTrue(parameters.endsWith("Tiled diffusion: " + s + ", Tile overlap: 16"), parameters);
		r = CliRun.of("img2img", "--prompt", "x", "--image", in.toString(), "--tile", String.valueOf(s),
			"--tile-overlap", String.valueOf(s), "--output", out.toString());
		assertEquals(Main.EXIT_USAGE, r.exitCode());
		assertTrue(r.err().contains("The tile overlap " + s + " is not possible"), r.err());
	}

	@Test
	void sizeNotAMultipleOfTheStepNamesTheNearestSizes() {
		Path out = dir.resolve("out.png");
		CliRun r = CliRun.of("txt2img", "--prompt", "x", "--width", "100", "--output", out.toString());
		assertEquals(Main.EXIT_USAGE, r.exitCode());
		assertTrue(r.cleanError(), r.err());
		assertTrue(r.err().contains("Width 100 is not possible") && r.err().contains("Nearest"), r.err());
		assertFalse(Files.exists(out));
	}

	@Test
	void unknownScheduler() {
		Path out = dir.resolve("out.png");
		CliRun r = CliRun.of("txt2img", "--prompt", "x", "--scheduler", "Warp 9", "--output", out.toString());
		assertEquals(Main.EXIT_USAGE, r.exitCode());
		assertTrue(r.cleanError(), r.err());
		assertTrue(r.err().contains("Warp 9") && r.err().contains("Euler a"), r.err());
		assertFalse(Files.exists(out));
	}

	@Test
	void infoPrintsWhatWasDetected() {
		CliRun r = CliRun.of("info", "--verbose");
		assertEquals(0, r.exitCode(), r.err());
		for (String key : new String[] { "Variant:", "Weights:", "Text encoder:", "UNet:", "Prediction type:",
			"Scheduler:", "Native size:", "Size step:", "Device:", "CUDA: not used", "unet: sample" })
		{
			assertTrue(r.out().contains(key), key + " in\n" + r.out());
		}
	}
}
