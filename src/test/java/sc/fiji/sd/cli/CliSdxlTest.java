package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import net.imglib2.img.array.ArrayImgs;
import sc.fiji.sd.pipeline.TestModels;
import sc.fiji.sd.provenance.PngReader;
import sc.fiji.sd.provenance.PngWriter;

/** The command line on the SDXL micro fixtures: txt2img, img2img, inpainting, the refiner hand-off, info. */
class CliSdxlTest {

	@TempDir
	Path dir;

	static String folder(String fixture) {
		return TestModels.folder(fixture).toString();
	}

	Path png(String name, float value) {
		var img = ArrayImgs.floats(64, 64, 3);
		img.forEach(t -> t.set(value));
		Path p = dir.resolve(name);
		PngWriter.write(p, img, Map.of());
		return p;
	}

	String parameters(Path png) throws Exception {
		return PngReader.readText(png).get("parameters");
	}

	@Test
	void textToImageOnSdxlBase() throws Exception {
		Path out = dir.resolve("xl.png");
		CliRun r = CliRun.of("txt2img", "--model", folder("sdxl-base"), "--prompt", "a red circle", "--width", "64",
			"--height", "48", "--steps", "2", "--seed", "5", "--output", out.toString());
		assertEquals(0, r.exitCode(), r.err());
		String p = parameters(out);
		assertTrue(p.contains("Seed: 5, Size: 64x48, Model: sdxl-base"), p);
	}

	@Test
	void imageToImageOnTheRefinerAloneAndInpainting() throws Exception {
		Path out = dir.resolve("refined.png");
		CliRun r = CliRun.of("img2img", "--model", folder("sdxl-refiner"), "--prompt", "x", "--image",
			png("in.png", 0.4f).toString(), "--strength", "0.5", "--steps", "4", "--seed", "1", "--output", out.toString());
		assertEquals(0, r.exitCode(), r.err());
		assertTrue(parameters(out).contains("Model: sdxl-refiner, Denoising strength: 0.5"), parameters(out));
		Path inpainted = dir.resolve("inpainted.png");
		r = CliRun.of("inpaint", "--model", folder("sdxl-inpaint"), "--prompt", "x", "--image", png("in.png", 0.4f)
			.toString(), "--mask", png("mask.png", 1f).toString(), "--steps", "2", "--seed", "1", "--output",
			inpainted.toString());
		assertEquals(0, r.exitCode(), r.err());
		assertTrue(parameters(inpainted).contains("Model: sdxl-inpaint"), parameters(inpainted));
	}

	@Test
	void refinerHandOffIsWrittenAsAutomatic1111Does() throws Exception {
		Path out = dir.resolve("handoff.png");
		CliRun r = CliRun.of("txt2img", "--model", folder("sdxl-base"), "--refiner", folder("sdxl-refiner"),
			"--refiner-switch", "0.5", "--prompt", "a red circle", "--width", "64", "--height", "64", "--steps", "4",
			"--seed", "2", "--output", out.toString());
		assertEquals(0, r.exitCode(), r.err());
		String p = parameters(out);
		assertTrue(p.contains("Model: sdxl-base"), p);
		assertTrue(p.endsWith(", Refiner: sdxl-refiner, Refiner switch at: 0.5"), p);
	}

	@Test
	void refinerOptionsAreChecked() {
		CliRun r = CliRun.of("txt2img", "--prompt", "x", "--refiner-switch", "0.8", "--output",
			dir.resolve("a.png").toString());
		assertEquals(2, r.exitCode(), r.err());
		assertTrue(r.err().contains("--refiner-switch needs --refiner"), r.err());
		r = CliRun.of("txt2img", "--model", folder("sdxl-base"), "--refiner", folder("sdxl-refiner"), "--prompt", "x",
			"--refiner-switch", "1.5", "--output", dir.resolve("b.png").toString());
		assertEquals(2, r.exitCode(), r.err());
		assertTrue(r.err().contains("refiner switch must be more than 0 and less than 1"), r.err());
		r = CliRun.of("txt2img", "--refiner", folder("sdxl-refiner"), "--prompt", "x", "--steps", "1", "--output",
			dir.resolve("c.png").toString()); // the embedded model is not SDXL
		assertEquals(1, r.exitCode(), r.err());
		assertTrue(r.cleanError() && r.err().contains("not SDXL"), r.err());
	}

	@Test
	void infoNamesTheFamily() {
		CliRun r = CliRun.of("info", "--model", folder("sdxl-refiner"));
		assertEquals(0, r.exitCode(), r.err());
		assertTrue(r.out().contains("Family:") && r.out().contains("SDXL refiner"), r.out());
		r = CliRun.of("info");
		assertTrue(r.out().contains("Family:"), r.out());
	}
}
