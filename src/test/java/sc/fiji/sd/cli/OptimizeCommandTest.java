package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code optimize}: writes the model's optimised files now, says what it wrote; nothing with the cache off. */
class OptimizeCommandTest {

	@TempDir
	Path cache;

	private CliRun withCache(String folder, String... args) {
		String saved = System.getProperty("sd.optimizedModels");
		try {
			System.setProperty("sd.optimizedModels", folder);
			return CliRun.of(args);
		}
		finally {
			if (saved == null) System.clearProperty("sd.optimizedModels");
			else System.setProperty("sd.optimizedModels", saved);
		}
	}

	@Test
	void optimizeWritesEveryComponentsFileOnceAndSaysSo() throws Exception {
		CliRun run = withCache(cache.toString(), "optimize", "--device", "cpu", "--verbose");
		assertEquals(Main.EXIT_OK, run.exitCode(), run.err());
		for (String c : new String[] { "unet", "text_encoder", "vae_decoder", "vae_encoder" })
			assertTrue(run.out().matches("(?s).*\\b" + c + ": optimised in [0-9.]+ s \\(its process's peak [0-9]+ MB\\).*"),
				run.out());
		assertTrue(run.out().contains("an optimising process needs up to"), run.out());
		try (var entries = Files.list(cache)) {
			assertEquals(4, entries.filter(Files::isDirectory).count(), "one entry per component");
		}
	}

	@Test
	void withTheCacheOffNothingIsWritten() {
		CliRun run = withCache("off", "optimize", "--device", "cpu");
		assertEquals(Main.EXIT_OK, run.exitCode(), run.err());
		assertTrue(run.out().contains("off"), run.out());
		assertFalse(run.out().contains("optimised in"), run.out());
	}
}
