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
	void benchReportsTheControlNetsCostPerStep() {
		String model = sc.fiji.sd.pipeline.TestModels.folder("controlnet").toString();
		CliRun run = CliRun.of("bench", "--model", model, "--device", "cpu", "--steps", "3", "--runs", "1",
			"--width", "64", "--height", "64", "--scheduler", "DDIM", "--no-cfg-compare", "--controlnet",
			sc.fiji.sd.pipeline.TestModels.controlNet("controlnet-scale").toString());
		assertEquals(0, run.exitCode(), run.err());
		assertTrue(run.out().contains("ControlNet per step (all ControlNets)"), run.out());
		assertTrue(run.out().contains("ControlNet call"), run.out());
		assertTrue(run.out().contains("ControlNet: 1 ControlNet(s), 3 calls per generation"), run.out());
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

	@Test
	void soakReportsMemoryFilesAndThreadsAtStartMiddleAndEndWithTheirSlope() {
		CliRun run = CliRun.of("bench", "--soak", "6", "--steps", "1", "--device", "cpu");
		assertEquals(0, run.exitCode(), run.err());
		String[] lines = run.out().strip().split("\n");
		assertEquals("soak: 6 generations", lines[0].substring(0, lines[0].indexOf(" in ")), run.out());
		assertTrue(lines[1].matches("after\\s+VmRSS MB\\s+heap MB\\s+open fds\\s+threads"), lines[1]);
		String[] after = { "0", "3", "6" };
		for (int i = 0; i < 3; i++) {
			assertTrue(lines[2 + i].matches(after[i] + "\\s+\\d+\\.\\d\\s+\\d+\\.\\d\\s+\\d+\\s+\\d+"), lines[2 + i]);
		}
		assertTrue(lines[5].matches("slope per 100 generations \\(middle to end\\): VmRSS [-+]\\d+\\.\\d\\d MB, open fds "
			+ "[-+]\\d+\\.\\d\\d, threads [-+]\\d+\\.\\d\\d"), lines[5]);
		assertTrue(run.err().contains("soak 6 of 6"), run.err());
	}

	@Test
	void soakOfOneIsAUsageError() {
		assertEquals(Main.EXIT_USAGE, CliRun.of("bench", "--soak", "1").exitCode());
	}
}
