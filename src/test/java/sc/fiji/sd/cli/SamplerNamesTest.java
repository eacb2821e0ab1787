package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import sc.fiji.sd.scheduler.Schedulers;

/** The --scheduler help lists the core's sampler registry, so a new sampler needs no CLI edit. */
class SamplerNamesTest {

	@Test
	void everyGenerationCommandsHelpListsEverySampler() {
		for (String command : new String[] { "txt2img", "img2img", "inpaint", "bench" }) {
			CliRun r = CliRun.of("help", command);
			assertEquals(0, r.exitCode(), r.err());
			String help = r.out().replaceAll("\\s+", " ");
			assertTrue(help.contains(String.join(", ", Schedulers.names())), command + ": " + r.out());
		}
	}
}
