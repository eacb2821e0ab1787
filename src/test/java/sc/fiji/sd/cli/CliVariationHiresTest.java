package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.provenance.PngReader;

/** {@code --variation-seed/--variation-strength} and {@code --hires-*}: written, replayed, bad values refused. */
class CliVariationHiresTest {

	@TempDir
	Path dir;

	@Test
	void variationsOfABatchReplayAlone() throws Exception {
		Path out = dir.resolve("v.png");
		CliRun r = CliRun.of("txt2img", "--prompt", "x", "--seed", "5", "--steps", "2", "--variation-seed", "9",
			"--variation-strength", "0.3", "--batch", "2", "--output", out.toString());
		assertEquals(0, r.exitCode(), r.err());
		assertTrue(r.out().contains("v-2.png (seed 5)"), r.out());
		String second = PngReader.readText(dir.resolve("v-2.png")).get("parameters");
		assertTrue(second.endsWith(", Variation seed: 10, Variation seed strength: 0.3"), second);
		Path alone = dir.resolve("alone.png");
		r = CliRun.of("txt2img", "--prompt", "x", "--seed", "5", "--steps", "2", "--variation-seed", "10",
			"--variation-strength", "0.3", "--output", alone.toString());
		assertEquals(0, r.exitCode(), r.err());
		assertArrayEquals(Files.readAllBytes(dir.resolve("v-2.png")), Files.readAllBytes(alone));
	}

	@Test
	void hiresFixDoublesTheSize() throws Exception {
		Path out = dir.resolve("h.png");
		CliRun r = CliRun.of("txt2img", "--prompt", "x", "--seed", "5", "--steps", "2", "--hires-scale", "2",
			"--hires-steps", "2", "--hires-strength", "0.5", "--output", out.toString());
		assertEquals(0, r.exitCode(), r.err());
		BufferedImage image = ImageIO.read(out.toFile());
		assertEquals(128, image.getWidth());
		assertEquals(128, image.getHeight());
		String parameters = PngReader.readText(out).get("parameters");
		assertTrue(parameters.endsWith(", Size: 64x64, Model: " + sc.fiji.sd.model.EmbeddedModel.NAME + ", Denoising strength: 0.5, Hires upscale: 2, "
			+ "Hires steps: 2, Hires upscaler: Lanczos"), parameters);
	}

	@Test
	void badValuesAreUsageErrors() {
		String[][] cases = { { "--variation-strength", "1.5" }, { "--variation-seed", "-7" }, { "--hires-scale", "8" },
			{ "--hires-strength", "-1" }, { "--hires-upscaler", "Latent" }, { "--hires-steps", "-2" } };
		for (String[] bad : cases) {
			CliRun r = CliRun.of("txt2img", "--prompt", "x", bad[0], bad[1], "--output", dir.resolve("b.png").toString());
			assertEquals(Main.EXIT_USAGE, r.exitCode(), String.join(" ", bad) + ": " + r.err());
			assertTrue(r.cleanError(), r.err());
			assertTrue(!Files.exists(dir.resolve("b.png")));
		}
	}
}
