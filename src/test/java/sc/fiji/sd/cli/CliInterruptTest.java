package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.model.EmbeddedModel;

/**
 * Ctrl-C (SIGINT) during a long generation stops it and writes the image of the last finished step, in a real
 * process: the run would otherwise take 1000 steps.
 */
@EnabledOnOs({ OS.LINUX, OS.MAC })
class CliInterruptTest {

	@Test
	void ctrlCWritesTheLastFinishedImage(@TempDir Path dir) throws Exception {
		Path out = dir.resolve("out.png");
		String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
		// A terminal's Ctrl-C reaches a process whose SIGINT is at its default; the JVM installs no handler for a SIGINT
		// ignored at start, which is what a test run started in the background (nohup, "&") passes on: reset it.
		List<String> command = new java.util.ArrayList<>(Files.isExecutable(Path.of("/usr/bin/env")) ? List.of(
			"/usr/bin/env", "--default-signal=INT") : List.of());
		command.addAll(List.of(java, "-cp", System.getProperty("java.class.path"), Main.class.getName(),
			"txt2img", "--model", EmbeddedModel.path().toString(), "--prompt", "a red circle", "--steps", "1000",
			"--width", "128", "--height", "128", "--seed", "1", "--scheduler", "Euler", "--verbose", "--output",
			out.toString()));
		Process p = new ProcessBuilder(command).start();
		List<String> stderr = new CopyOnWriteArrayList<>();
		CountDownLatch loaded = new CountDownLatch(1);
		Thread reader = new Thread(() -> {
			try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
				for (String line; (line = r.readLine()) != null;) {
					stderr.add(line);
					if (line.startsWith("Sessions created")) loaded.countDown();
				}
			}
			catch (java.io.IOException e) {
				// the process ended
			}
		});
		reader.start();
		try {
			assertTrue(loaded.await(3, TimeUnit.MINUTES), "model loaded: " + stderr);
			Thread.sleep(1000); // into the denoising loop (where exactly does not matter)
			assertEquals(0, new ProcessBuilder("kill", "-INT", String.valueOf(p.pid())).start().waitFor());
			assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the process ends after Ctrl-C");
			reader.join(10_000);
			String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			assertEquals(130, p.exitValue(), "exit status of SIGINT; stderr: " + stderr);
			assertTrue(stderr.stream().anyMatch(l -> l.startsWith("Interrupted")), String.valueOf(stderr));
			assertTrue(stdout.contains("Wrote " + out), stdout);
			byte[] png = Files.readAllBytes(out);
			assertArrayEquals(new byte[] { (byte) 0x89, 'P', 'N', 'G' }, Arrays.copyOf(png, 4));
		}
		finally {
			p.destroyForcibly();
		}
	}
}
