package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Faults only a whole process shows: native crashes, what is left in the temporary folder, which model is used. */
class CliProcessTest {

	@TempDir
	Path dir;

	@Test
	void aVeryLongPromptRunsFromAFolderWithAPlantedModelAndLeavesNothingInTmp() throws Exception {
		// ONNX Runtime parses /proc/self/cmdline recursively: ~5,000 characters overflowed the main thread's stack (SIGSEGV).
		String prompt = "a red circle ".repeat(2000);
		// A model planted in the working directory would be used silently before; it is not a model at all.
		Path planted = Files.createDirectories(dir.resolve("models/tiny-sd-shapes/unet"));
		Files.writeString(planted.resolve("model.onnx"), "planted, not ONNX");
		CliProcess r = CliProcess.run(dir, "txt2img", "--prompt", prompt, "--negative", "blue ".repeat(1000),
			"--steps", "1", "--seed", "3", "--output", "out.png");
		assertEquals(0, r.exitCode(), r.err());
		assertTrue(Files.size(dir.resolve("out.png")) > 0);
		try (Stream<Path> left = Files.list(dir.resolve("tmp"))) {
			assertEquals(java.util.List.of(), left.toList(), "ONNX Runtime's extraction folder is removed at exit");
		}
	}

	@Test
	void outOfMemoryIsAMessageThatSaysWhatToDo() throws Exception {
		Path image = dir.resolve("big.png");
		sc.fiji.sd.provenance.PngWriter.write(image, net.imglib2.img.array.ArrayImgs.floats(2048, 2048, 3), java.util.Map.of());
		CliProcess r = CliProcess.runWithHeap(dir, "24m", "img2img", "--prompt", "x", "--image", image.toString(),
			"--output", "out.png");
		assertEquals(1, r.exitCode(), r.err());
		assertTrue(r.err().startsWith("error: Out of memory"), r.err());
		assertTrue(r.err().contains("-Xmx") && r.err().contains("smaller size"), r.err());
		assertTrue(!r.err().contains("\tat "), "no stack trace: " + r.err());
		assertTrue(!Files.exists(dir.resolve("out.png")));
	}
}
