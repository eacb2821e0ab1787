package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every bad option value is a usage error (exit 2) found before the model loads: the run names a model folder that
 * does not exist, so a check made after loading would fail with "does not exist" and exit 1 instead.
 */
class CliOptionChecksTest {

	@TempDir
	Path dir;

	@ParameterizedTest(name = "{0} {1}")
	@CsvSource(delimiter = '|', value = {
		"--steps     | 0        | Steps must be between 1 and 1000",
		"--steps     | 1001     | Steps must be between 1 and 1000",
		"--guidance  | -1       | Guidance (CFG scale) must be between 0 and 100",
		"--guidance  | NaN      | Guidance (CFG scale) must be between 0 and 100",
		"--guidance  | 101      | Guidance (CFG scale) must be between 0 and 100",
		"--width     | 100      | Width 100 is not possible",
		"--width     | -64      | Width -64 is not possible: give a positive size",
		"--height    | 8192     | Height 8192 is not possible",
		"--batch     | 0        | Batch size and batch count must be at least 1",
		"--batch-count | -2     | Batch size and batch count must be at least 1",
		"--seed      | -5       | Seed -5 is not possible",
		"--scheduler | Eulerish | Unknown sampler \"Eulerish\"",
		"--scheduler | DDIM Karras | Unknown sampler \"DDIM Karras\"",
	})
	void badValuesExitWithUsageErrorBeforeTheModelLoads(String option, String value, String message) {
		assertUsageError(message, "txt2img", "--prompt", "x", option, value);
	}

	@org.junit.jupiter.api.Test
	void moreImagesThanOneRunWritesIsAUsageError() {
		assertUsageError("at most 100000 in one run", "txt2img", "--prompt", "x", "--batch", "1000", "--batch-count", "1000");
	}

	@ParameterizedTest(name = "inpaint {0} {1}")
	@CsvSource(delimiter = '|', value = {
		"--feather   | -3       | The mask feather must be between 0 and 64",
		"--feather   | 65       | The mask feather must be between 0 and 64",
		"--strength  | -0.1     | --strength must be between 0 and 1",
	})
	void badInpaintValues(String option, String value, String message) throws Exception {
		Path image = dir.resolve("i.png"), mask = dir.resolve("m.png");
		sc.fiji.sd.provenance.PngWriter.write(image, net.imglib2.img.array.ArrayImgs.floats(64, 64, 3), java.util.Map.of());
		sc.fiji.sd.provenance.PngWriter.write(mask, net.imglib2.img.array.ArrayImgs.floats(64, 64, 3), java.util.Map.of());
		assertUsageError(message, "inpaint", "--prompt", "x", "--image", image.toString(), "--mask", mask.toString(),
			option, value);
	}

	@ParameterizedTest
	@CsvSource({ "''", "'  '", "euler a", "EulerDiscreteScheduler" })
	void anEmptySchedulerMeansTheModelsOwnAndNamesAreCaseInsensitive(String scheduler) {
		// Passes the option checks: fails only at the (missing) model folder, after them.
		CliRun r = run("txt2img", "--prompt", "x", "--scheduler", scheduler);
		assertEquals(1, r.exitCode(), r.err());
		assertTrue(r.err().contains("does not exist"), r.err());
	}

	private CliRun run(String... args) {
		List<String> all = new ArrayList<>(List.of(args));
		all.addAll(List.of("--model", dir.resolve("no-model").toString(), "--output", dir.resolve("out.png").toString()));
		return CliRun.of(all.toArray(String[]::new));
	}

	private void assertUsageError(String message, String... args) {
		CliRun r = run(args);
		assertEquals(Main.EXIT_USAGE, r.exitCode(), r.err());
		assertTrue(r.cleanError(), r.err());
		assertTrue(r.err().contains(message), r.err());
		assertFalse(Files.exists(dir.resolve("out.png")));
	}

	@org.junit.jupiter.api.Test
	void aSizeThatCannotRunIsRefusedBeforeOnnxRuntimeTries() {
		Path out = dir.resolve("big.png");
		CliRun r = CliRun.of("txt2img", "--prompt", "x", "--width", "4096", "--height", "4096", "--steps", "1", "--output",
			out.toString());
		assertEquals(Main.EXIT_ERROR, r.exitCode(), r.err());
		assertTrue(r.cleanError(), r.err());
		assertTrue(r.err().contains("4096x4096 needs about") && r.err().contains("The largest size that fits is about"), r.err());
		assertFalse(r.err().contains("\u001b["), "no ONNX Runtime log line: " + r.err());
		assertFalse(Files.exists(out));
	}
}
