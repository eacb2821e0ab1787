package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import sc.fiji.sd.bench.BenchFixtures;

/** {@code bench} from the command line: the table on stdout, progress on stderr, the overhead as the last line. */
class BenchCommandTest {

	@Test
	void benchPrintsTheTableAndEndsWithOverhead() {
		String model = BenchFixtures.folder("int64-timestep").toString();
		CliRun run = CliRun.of("bench", "--model", model, "--device", "cpu", "--steps", "2", "--runs", "1",
			"--width", "64", "--height", "64", "--guidance", "1");
		assertEquals(0, run.exitCode(), run.err());
		String[] lines = run.out().strip().split("\n");
		assertTrue(lines[lines.length - 1].matches("overhead: \\d+\\.\\d{3}"), lines[lines.length - 1]);
		assertTrue(run.out().contains("ONNX floor (same calls, bare loop)"), run.out());
		assertTrue(run.out().contains("guidance ≤ 1: one UNet call per step"), run.out());
		assertTrue(run.err().contains("run 1 of 1"), "progress on stderr: " + run.err());
	}

	@Test
	void badRunCountIsAUsageError() {
		CliRun run = CliRun.of("bench", "--runs", "0");
		assertEquals(Main.EXIT_USAGE, run.exitCode());
		assertTrue(run.cleanError(), run.err());
	}

	@Test
	void unknownOptimisationLevelIsNamed() {
		String model = BenchFixtures.folder("int64-timestep").toString();
		CliRun run = CliRun.of("bench", "--model", model, "--opt-level", "fastest", "--steps", "1", "--runs", "1");
		assertEquals(Main.EXIT_ERROR, run.exitCode());
		assertTrue(run.err().contains("'fastest'") && run.err().contains("basic"), run.err());
	}
}
