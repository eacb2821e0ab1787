package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 in every phase of a run (loading, denoising, writing) leaves no output file, and the next run into the same
 * folder cleans the killed run's temporary files; two runs to one output both finish with one whole file.
 */
class CliKillTest {

	@TempDir
	Path dir;

	private Process start(String output, String... more) throws IOException {
		List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
			"-Xmx1g", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "txt2img", "--prompt",
			"a red circle", "--verbose", "--output", output));
		command.addAll(List.of(more));
		return new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
			.redirectOutput(dir.resolve("log-" + System.nanoTime() + ".txt").toFile()).start();
	}

	private List<String> outputs() throws IOException {
		try (Stream<Path> s = Files.list(dir)) {
			return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("out") || n.startsWith(".")).sorted().toList();
		}
	}

	private static void await(BooleanSupplier condition, Process p) throws InterruptedException {
		long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
		while (!condition.getAsBoolean()) {
			if (!p.isAlive()) throw new AssertionError("the run ended before the phase was reached");
			if (System.nanoTime() > deadline) throw new AssertionError("phase not reached within 3 minutes");
			Thread.sleep(2);
		}
	}

	private static void kill(Process p) throws InterruptedException {
		p.destroyForcibly(); // SIGKILL on Linux: no shutdown hook runs
		assertTrue(p.waitFor(1, TimeUnit.MINUTES));
	}

	private boolean logContains(String text) {
		try (Stream<Path> s = Files.list(dir)) {
			for (Path p : (Iterable<Path>) s::iterator)
				if (p.getFileName().toString().startsWith("log-") && Files.readString(p).contains(text)) return true;
		}
		catch (IOException e) {
			// being written
		}
		return false;
	}

	private boolean partFileExists() {
		try (Stream<Path> s = Files.list(dir)) {
			return s.anyMatch(p -> p.getFileName().toString().endsWith(".part"));
		}
		catch (IOException e) {
			return false;
		}
	}

	@Test
	void killedWhileLoadingDenoisingOrWritingLeavesNoOutputAndTheNextRunCleansUp() throws Exception {
		String[] batch = { "--steps", "3", "--batch-count", "12", "--seed", "1" };
		// Loading: before the sessions exist.
		Process p = start("out.png", batch);
		Thread.sleep(300);
		kill(p);
		assertEquals(List.of(), outputs(), "killed while loading");
		// Denoising: the model is loaded (--verbose says so), nothing written yet.
		p = start("out.png", batch);
		await(() -> logContains("Sessions created"), p);
		kill(p);
		assertTrue(outputs().stream().noneMatch(n -> n.endsWith(".png")), "killed while denoising: " + outputs());
		// Writing: the first image's temporary file exists.
		p = start("out.png", batch);
		await(this::partFileExists, p);
		kill(p);
		List<String> left = outputs();
		assertTrue(left.stream().noneMatch(n -> n.endsWith(".png")), "killed while writing: " + left);
		assertTrue(left.stream().anyMatch(n -> n.endsWith(".part")), "the killed run's temporary file: " + left);
		// The next run cleans the killed run's temporary files and writes all of its own.
		CliProcess r = CliProcess.run(dir, "txt2img", "--prompt", "a red circle", "--steps", "1", "--batch", "3",
			"--output", "out.png");
		assertEquals(0, r.exitCode(), r.err());
		assertEquals(List.of("out-1.png", "out-2.png", "out-3.png"), outputs());
	}

	@Test
	void twoRunsToOneOutputBothFinishWithOneWholeFile() throws Exception {
		Process a = start("out.png", "--steps", "2", "--seed", "1"), b = start("out.png", "--steps", "2", "--seed", "2");
		assertTrue(a.waitFor(3, TimeUnit.MINUTES) && b.waitFor(3, TimeUnit.MINUTES));
		assertEquals(0, a.exitValue());
		assertEquals(0, b.exitValue());
		assertEquals(List.of("out.png"), outputs(), "one file, no temporary left");
		assertEquals(64, sc.fiji.sd.image.ImageFiles.readRgb(dir.resolve("out.png")).dimension(0), "a whole PNG");
	}

	@Test
	void interruptedWhileWritingLeavesNothingAtAll() throws Exception {
		Process p = start("out.png", "--steps", "3", "--batch-count", "12", "--seed", "1");
		await(this::partFileExists, p);
		p.destroy(); // SIGTERM, as Ctrl-C's SIGINT: the shutdown hook deletes the run's temporary files
		assertTrue(p.waitFor(1, TimeUnit.MINUTES));
		assertEquals(List.of(), outputs());
	}
}
