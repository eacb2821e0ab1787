package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.pipeline.ControlNetParameters;
import sc.fiji.sd.pipeline.TestModels;
import sc.fiji.sd.provenance.PngReader;

/** {@code --controlnet DIR --control IMAGE …} groups on the split-layout fixtures, end to end through the CLI. */
class CliControlNetTest {

	static final String SCALE = TestModels.controlNet("controlnet-scale").toString();
	static final String NOSCALE = TestModels.controlNet("controlnet-noscale").toString();

	@TempDir
	static Path dir;
	static Path disc, small;

	@BeforeAll
	static void images() throws IOException {
		disc = disc(dir.resolve("disc.png"), 64);
		small = disc(dir.resolve("small.png"), 40);
	}

	@AfterAll
	static void release() {
		CliRun.MODELS.release();
	}

	/** A white disc on black, size × size. */
	static Path disc(Path file, int size) throws IOException {
		BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
		for (int y = 0; y < size; y++) {
			for (int x = 0; x < size; x++) {
				double dx = x - size * 0.55, dy = y - size * 0.45;
				img.setRGB(x, y, dx * dx + dy * dy < size * size * 0.08 ? 0xffffff : 0);
			}
		}
		ImageIO.write(img, "png", file.toFile());
		return file;
	}

	private static CliRun run(String command, Path out, String... more) {
		List<String> args = new ArrayList<>(List.of(command, "--model", TestModels.folder("controlnet").toString(),
			"--device", "cpu", "--prompt", "a red circle", "--steps", "3", "--seed", "5", "--scheduler", "DDIM",
			"--output", out.toString()));
		args.addAll(List.of(more));
		return CliRun.of(args.toArray(String[]::new));
	}

	private static byte[] pixels(Path png) throws IOException {
		BufferedImage img = ImageIO.read(png.toFile());
		return ((java.awt.image.DataBufferByte) img.getRaster().getDataBuffer()).getData();
	}

	@Test
	void oneControlNetChangesTheImageAndIsRecorded() throws IOException {
		Path with = dir.resolve("with.png"), without = dir.resolve("without.png");
		CliRun r = run("txt2img", with, "--controlnet", SCALE, "--control", disc.toString(), "--control-scale", "0.8",
			"--control-end", "0.9");
		assertEquals(0, r.exitCode(), r.err());
		CliRun plain = run("txt2img", without);
		assertEquals(0, plain.exitCode(), plain.err());
		assertFalse(Arrays.equals(pixels(with), pixels(without)), "the ControlNet changed nothing");
		String parameters = PngReader.readText(with).get("parameters");
		assertEquals(List.of(new ControlNetParameters.Entry("none", "controlnet-scale", 0.8, 0, 0.9)),
			ControlNetParameters.parse(parameters));
	}

	@Test
	void anSdxlModelTakesAnSdxlControlNet() throws IOException {
		Path with = dir.resolve("sdxl-with.png"), without = dir.resolve("sdxl-without.png");
		String sdxl = TestModels.folder("sdxl-controlnet").toString();
		String net = TestModels.controlNet("sdxl-controlnet-scale").toString();
		CliRun r = CliRun.of("txt2img", "--model", sdxl, "--device", "cpu", "--prompt", "a red circle", "--steps", "3",
			"--seed", "5", "--scheduler", "DDIM", "--output", with.toString(), "--controlnet", net, "--control",
			disc.toString(), "--control-type", "mask");
		assertEquals(0, r.exitCode(), r.err());
		CliRun plain = CliRun.of("txt2img", "--model", sdxl, "--device", "cpu", "--prompt", "a red circle", "--steps",
			"3", "--seed", "5", "--scheduler", "DDIM", "--output", without.toString());
		assertEquals(0, plain.exitCode(), plain.err());
		assertFalse(Arrays.equals(pixels(with), pixels(without)), "the SDXL ControlNet changed nothing");
		assertEquals(List.of(new ControlNetParameters.Entry("mask", "sdxl-controlnet-scale", 1, 0, 1)),
			ControlNetParameters.parse(PngReader.readText(with).get("parameters")));
		CliRun mixed = run("txt2img", dir.resolve("never3.png"), "--controlnet", net, "--control", disc.toString());
		assertEquals(1, mixed.exitCode(), mixed.err());
		assertTrue(mixed.cleanError() && mixed.err().contains("it is an SDXL ControlNet"), mixed.err());
	}

	@Test
	void twoGroupsStackWithTheirOwnTypeAndScale() throws IOException {
		Path out = dir.resolve("two.png");
		CliRun r = run("txt2img", out, "--controlnet", SCALE, "--control", disc.toString(), "--control-type", "canny",
			"--controlnet", NOSCALE, "--control", disc.toString(), "--control-type", "invert", "--control-scale", "0.5",
			"--control-start", "0.3");
		assertEquals(0, r.exitCode(), r.err());
		assertEquals(List.of(new ControlNetParameters.Entry("canny", "controlnet-scale", 1, 0, 1),
			new ControlNetParameters.Entry("invert", "controlnet-noscale", 0.5, 0.3, 1)),
			ControlNetParameters.parse(PngReader.readText(out).get("parameters")));
	}

	@Test
	void aControlImageOfAnotherSizeIsResizedAndSaidSo() {
		Path out = dir.resolve("resized.png");
		CliRun r = run("txt2img", out, "--width", "64", "--height", "64", "--controlnet", NOSCALE, "--control",
			small.toString(), "--control-type", "mask");
		assertEquals(0, r.exitCode(), r.err());
		assertTrue(r.err().contains("ControlNet 0: control image " + small + " (40x40) resized to the output size 64x64"),
			r.err());
	}

	@Test
	void imageToImageTakesAControlNet() throws IOException {
		Path out = dir.resolve("img2img.png");
		CliRun r = run("img2img", out, "--image", disc.toString(), "--strength", "0.6", "--controlnet", NOSCALE,
			"--control", disc.toString(), "--control-type", "scribble");
		assertEquals(0, r.exitCode(), r.err());
		assertTrue(PngReader.readText(out).get("parameters").contains("Module: scribble_xdog"));
	}

	/** Tiled diffusion takes the ControlNet too (each tile gets its part of the control image), recorded with both. */
	@Test
	void imageToImageInTilesTakesAControlNet() throws IOException {
		Path big = disc(dir.resolve("big.png"), 128), with = dir.resolve("tiles-with.png"),
			without = dir.resolve("tiles-without.png");
		CliRun r = run("img2img", with, "--image", big.toString(), "--strength", "0.8", "--tile", "64", "--controlnet",
			NOSCALE, "--control", big.toString(), "--control-type", "mask");
		assertEquals(0, r.exitCode(), r.err());
		CliRun plain = run("img2img", without, "--image", big.toString(), "--strength", "0.8", "--tile", "64");
		assertEquals(0, plain.exitCode(), plain.err());
		assertFalse(Arrays.equals(pixels(with), pixels(without)), "the ControlNet changed nothing in tiles");
		String parameters = PngReader.readText(with).get("parameters");
		assertTrue(parameters.contains("Tiled diffusion: 64, Tile overlap: 16") && parameters.contains("Module: mask"),
			parameters);
	}

	@Test
	void usageErrorsBeforeTheModelLoads() {
		Path out = dir.resolve("never.png");
		CliRun missing = run("txt2img", out, "--controlnet", SCALE, "--control", dir.resolve("nope.png").toString());
		assertEquals(2, missing.exitCode(), missing.err());
		assertTrue(missing.cleanError() && missing.err().contains("nope.png") && missing.err().contains("does not exist"),
			missing.err());
		CliRun type = run("txt2img", out, "--controlnet", SCALE, "--control", disc.toString(), "--control-type", "hed");
		assertEquals(2, type.exitCode(), type.err());
		assertTrue(type.cleanError() && type.err().contains("Unknown control type \"hed\""), type.err());
		CliRun folder = run("txt2img", out, "--controlnet", dir.resolve("no-net").toString(), "--control",
			disc.toString());
		assertEquals(2, folder.exitCode(), folder.err());
		assertTrue(folder.cleanError() && folder.err().contains("no-net"), folder.err());
		CliRun scale = run("txt2img", out, "--controlnet", SCALE, "--control", disc.toString(), "--control-scale",
			"-1");
		assertEquals(2, scale.exitCode(), scale.err());
		assertTrue(scale.cleanError() && scale.err().contains("control scale"), scale.err());
		CliRun window = run("txt2img", out, "--controlnet", SCALE, "--control", disc.toString(), "--control-start",
			"0.8", "--control-end", "0.2");
		assertEquals(2, window.exitCode(), window.err());
		assertTrue(window.cleanError() && window.err().contains("start < end"), window.err());
		CliRun alone = run("txt2img", out, "--control", disc.toString());
		assertEquals(2, alone.exitCode(), alone.err());
		assertTrue(alone.err().contains("--controlnet"), alone.err());
		assertFalse(Files.exists(out));
	}

	@Test
	void withoutControlNetTheEmbeddedModelUsesItsShippedOne() throws IOException {
		Path base = TestModels.embeddedWithControlNet(dir.resolve("shipped"));
		Path byDefault = dir.resolve("default.png"), named = dir.resolve("named.png");
		String old = System.getProperty("sd.embeddedModel");
		CliRun r;
		try {
			System.setProperty("sd.embeddedModel", base.toString());
			r = CliRun.of("txt2img", "--device", "cpu", "--prompt", "a red circle", "--steps", "3", "--seed", "5",
				"--scheduler", "DDIM", "--output", byDefault.toString(), "--control", disc.toString(), "--control-scale",
				"0.8");
		}
		finally {
			if (old == null) System.clearProperty("sd.embeddedModel");
			else System.setProperty("sd.embeddedModel", old);
		}
		assertEquals(0, r.exitCode(), r.err());
		CliRun explicit = run("txt2img", named, "--controlnet", SCALE, "--control", disc.toString(), "--control-scale",
			"0.8");
		assertEquals(0, explicit.exitCode(), explicit.err());
		assertTrue(Arrays.equals(pixels(named), pixels(byDefault)), "the shipped ControlNet is the one used");
		assertEquals(List.of(new ControlNetParameters.Entry("none", "tiny-sd-shapes-controlnet", 0.8, 0, 1)),
			ControlNetParameters.parse(PngReader.readText(byDefault).get("parameters")));
	}

	/** The help lists the pre-processor registry's names and the group's defaults (picocli would print null). */
	@Test
	void theHelpListsTheControlTypesAndTheDefaults() {
		CliRun help = CliRun.of("help", "txt2img");
		assertEquals(0, help.exitCode(), help.err());
		String text = help.out().replaceAll("\\s+", " ");
		assertTrue(text.contains("Preprocessor for the control image: " + String.join(", ",
			sc.fiji.sd.control.ControlPreprocessors.names())), text);
		assertFalse(text.contains("default: null"), text);
		assertTrue(text.contains("ControlNet weight, 0 (off) or more (default: 1)"), text);
	}

	@Test
	void aControlImageWithNoControlNetToBeFoundSaysWhatToPass() {
		Path out = dir.resolve("none.png");
		CliRun r = run("txt2img", out, "--control", disc.toString());
		assertEquals(2, r.exitCode(), r.err());
		assertTrue(r.cleanError() && r.err().contains("--controlnet DIR") && r.err().contains("controlnet-controlnet"),
			r.err());
		assertFalse(Files.exists(out));
	}

	@Test
	void modelOrControlNetThatDoNotFitFailCleanly() {
		Path out = dir.resolve("never2.png");
		CliRun plain = CliRun.of("txt2img", "--model", TestModels.folder("optimum").toString(), "--device", "cpu",
			"--prompt", "x", "--steps", "1", "--output", out.toString(), "--controlnet", SCALE, "--control",
			disc.toString());
		assertEquals(1, plain.exitCode(), plain.err());
		assertTrue(plain.cleanError() && plain.err().contains("controlnet/model.onnx"), plain.err());
		CliRun wide = run("txt2img", out, "--controlnet", TestModels.controlNet("controlnet-wide").toString(),
			"--control", disc.toString());
		assertEquals(1, wide.exitCode(), wide.err());
		assertTrue(wide.cleanError() && wide.err().contains("controlnet-wide") && wide.err().contains("text width"),
			wide.err());
		assertFalse(Files.exists(out));
	}
}
