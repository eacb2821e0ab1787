package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import net.imglib2.img.array.ArrayImgs;
import sc.fiji.sd.provenance.PngReader;
import sc.fiji.sd.provenance.PngWriter;

/** SDXL's micro-conditioning options on the SDXL micro fixtures: what they change, what is written, bad values. */
class CliSdxlConditioningTest {

	@TempDir
	Path dir;

	private CliRun txt2img(Path out, String... extra) {
		String[] args = { "txt2img", "--model", CliSdxlTest.folder("sdxl-base"), "--prompt", "a red circle", "--width",
			"64", "--height", "48", "--steps", "2", "--seed", "5", "--output", out.toString() };
		String[] all = Arrays.copyOf(args, args.length + extra.length);
		System.arraycopy(extra, 0, all, args.length, extra.length);
		return CliRun.of(all);
	}

	@Test
	void originalSizeAndCropChangeTheImageAndAreWritten() throws Exception {
		Path plain = dir.resolve("plain.png"), told = dir.resolve("told.png");
		assertEquals(0, txt2img(plain).exitCode());
		CliRun r = txt2img(told, "--original-size", "1024x768", "--crop-top-left", "16,8");
		assertEquals(0, r.exitCode(), r.err());
		String p = PngReader.readText(told).get("parameters");
		assertTrue(p.contains("Model: sdxl-base, Original size: 1024x768, Crop top left: \"16,8\""), p);
		assertFalse(PngReader.readText(plain).get("parameters").contains("Original size"), "the defaults are not written");
		assertFalse(Arrays.equals(Files.readAllBytes(plain), Files.readAllBytes(told)));
	}

	@Test
	void theRefinersAestheticScores() throws Exception {
		var img = ArrayImgs.floats(64, 64, 3);
		img.forEach(t -> t.set(0.4f));
		Path in = dir.resolve("in.png"), out = dir.resolve("refined.png");
		PngWriter.write(in, img, Map.of());
		CliRun r = CliRun.of("img2img", "--model", CliSdxlTest.folder("sdxl-refiner"), "--prompt", "x", "--image",
			in.toString(), "--strength", "0.5", "--steps", "4", "--seed", "1", "--output", out.toString(),
			"--aesthetic-score", "9", "--negative-aesthetic-score", "1");
		assertEquals(0, r.exitCode(), r.err());
		String p = PngReader.readText(out).get("parameters");
		assertTrue(p.contains("Aesthetic score: 9, Negative aesthetic score: 1"), p);
	}

	@Test
	void badValuesAreUsageErrorsThatSayWhatToWrite() {
		CliRun r = txt2img(dir.resolve("x.png"), "--original-size", "1024");
		assertEquals(Main.EXIT_USAGE, r.exitCode());
		assertTrue(r.cleanError() && r.err().contains("--original-size 1024") && r.err().contains("WIDTHxHEIGHT"), r.err());
		r = txt2img(dir.resolve("x.png"), "--aesthetic-score", "11");
		assertEquals(Main.EXIT_USAGE, r.exitCode());
		assertTrue(r.cleanError() && r.err().contains("between 0 and 10"), r.err());
	}
}
