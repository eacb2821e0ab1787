package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import net.imglib2.img.array.ArrayImgs;
import sc.fiji.sd.provenance.PngWriter;

/** Bad input on the command line: exit 1 or 2, one message naming the problem, never a stack trace or an output file. */
class CliErrorsTest {

	@TempDir
	Path dir;

	Path output() {
		return dir.resolve("out.png");
	}

	void assertFails(int code, String expected, String... args) {
		CliRun r = CliRun.of(args);
		assertEquals(code, r.exitCode(), r.err());
		assertTrue(r.cleanError(), r.err());
		assertTrue(r.err().contains(expected), r.err());
		assertFalse(Files.exists(output()), "no partial output");
	}

	Path png(String name, int w, int h) {
		Path p = dir.resolve(name);
		PngWriter.write(p, ArrayImgs.floats(w, h, 3), java.util.Map.of());
		return p;
	}

	@Test
	void missingCommandOrPrompt() {
		assertEquals(Main.EXIT_USAGE, CliRun.of().exitCode());
		assertFails(2, "--prompt", "txt2img", "--output", output().toString());
	}

	@Test
	void missingModelFolder() {
		assertFails(1, "does not exist", "txt2img", "--prompt", "x", "--model", dir.resolve("none").toString(),
			"--output", output().toString());
	}

	@Test
	void notAModelFolder() throws Exception {
		Files.writeString(dir.resolve("readme.txt"), "hello");
		assertFails(1, "is not a Stable Diffusion ONNX export", "txt2img", "--prompt", "x", "--model", dir.toString(),
			"--output", output().toString());
	}

	@Test
	void unreadableImages() throws Exception {
		assertFails(1, "does not exist", "img2img", "--prompt", "x", "--image", dir.resolve("no.png").toString(),
			"--output", output().toString());
		Path text = dir.resolve("fake.png");
		Files.writeString(text, "not an image");
		assertFails(1, "Cannot read the image", "img2img", "--prompt", "x", "--image", text.toString(), "--output",
			output().toString());
	}

	@Test
	void maskOfAnotherSize() {
		assertFails(2, "they must have the same size", "inpaint", "--prompt", "x", "--image",
			png("i.png", 64, 64).toString(), "--mask", png("m.png", 32, 64).toString(), "--output", output().toString());
	}

	@Test
	void missingImageOrMaskOption() {
		assertFails(2, "--image", "img2img", "--prompt", "x", "--output", output().toString());
		assertFails(2, "--mask", "inpaint", "--prompt", "x", "--image", png("i.png", 64, 64).toString(), "--output",
			output().toString());
	}

	@Test
	void strengthOutsideZeroToOne() {
		assertFails(2, "--strength must be between 0 and 1", "img2img", "--prompt", "x", "--image",
			png("i.png", 64, 64).toString(), "--strength", "1.5", "--output", output().toString());
	}

	@Test
	void unknownDeviceAndMissingOutputFolder() {
		assertFails(2, "Unknown --device 'gpu'", "txt2img", "--prompt", "x", "--device", "gpu", "--output",
			output().toString());
		CliRun r = CliRun.of("txt2img", "--prompt", "x", "--output", dir.resolve("no/such/out.png").toString());
		assertEquals(2, r.exitCode());
		assertTrue(r.err().contains("does not exist"), r.err());
	}

	@Test
	void notANumber() {
		assertFails(2, "--steps", "txt2img", "--prompt", "x", "--steps", "many", "--output", output().toString());
	}
}
