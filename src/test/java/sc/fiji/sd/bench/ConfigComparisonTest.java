package sc.fiji.sd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import org.junit.jupiter.api.Test;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import sc.fiji.sd.onnx.CfgMode;
import sc.fiji.sd.onnx.RuntimeOptions.ArenaUse;

/**
 * {@code bench --compare-configs} on the embedded model with tiny counts: each configuration runs in its own child
 * process, every stage is reported for every configuration with a best one, and the pipeline's generation is set
 * against the best floor. No timing is asserted.
 */
class ConfigComparisonTest {

	private static ConfigComparison.Options options(String... only) {
		ConfigComparison.Options o = new ConfigComparison.Options();
		o.model = java.nio.file.Path.of("models/tiny-sd-shapes"); // the embedded model
		o.width = 64;
		o.height = 64;
		o.steps = 2;
		o.rounds = 2;
		o.calls = 1;
		o.only = List.of(only);
		return o;
	}

	@Test
	void everyStageOfEveryConfigurationIsMeasuredInAChildProcessAndTheBestIsNamed() {
		StringWriter progress = new StringWriter();
		ConfigComparison.Options o = options("ours", "sd4j", "pipeline");
		o.profile = true;
		ConfigComparison.Result r = ConfigComparison.run(o, new PrintWriter(progress));
		String text = r.format();
		assertEquals(List.of("ours", "sd4j", "pipeline"), r.configs());
		for (String config : List.of("ours", "sd4j")) {
			for (String stage : ConfigComparison.STAGES) {
				assertEquals(2, r.values(config, "call." + stage).size(), config + " " + stage + ": one timed call per round");
				assertTrue(text.matches("(?s).*\n" + java.util.regex.Pattern.quote(stage) + "\\s+" + config
					+ "\\s+[0-9.]+ ms\\s+[0-9.]+ ms\\s+[0-9.]+ ms\\s+2  (best|\\+[0-9.]+ %).*"), stage + " " + config + ":\n" + text);
			}
			assertEquals(2, r.values(config, "load").size(), "a load per child process");
			assertTrue(r.values(config, "rss.peak").get(0) > 0, "peak RSS read in the child");
		}
		assertTrue(r.values("pipeline", "call." + ConfigComparison.UNET2).isEmpty(), "the pipeline runs generations only");
		assertEquals(2, r.values("pipeline", "call." + ConfigComparison.GENERATION).size());
		assertEquals(2, r.values("pipeline", "count.text_encoder").get(0), "prompt and negative prompt");
		for (String stage : ConfigComparison.STAGES) assertTrue(List.of("ours", "sd4j").contains(r.best.get(stage)), stage);
		// alternating: each round runs every configuration, in a rotated order
		List<String> order = progress.toString().lines().filter(l -> l.startsWith("round ")).map(l -> l.split(": ")[1]
			.split(" ")[0]).toList();
		assertEquals(List.of("ours", "sd4j", "pipeline", "sd4j", "pipeline", "ours"), order);
		assertTrue(text.contains("load average (1, 5, 15 min) at the start: "), text);
		assertTrue(text.matches("(?s).*\n  sd4j\\s+[0-9.]+ ms\\s+[0-9.]+ ms\\s+[0-9.]+ ms\\s+[0-9]+ MB\\s+[0-9]+ MB\\s+(within|OVER)\\s+[0-9.]+.*"), text);
		assertTrue(text.matches("(?s).*\n  sd4j\\s+run [0-9.]+ ms, kernels [0-9.]+ ms, outside the kernels -?[0-9.]+ ms; "
			+ "[A-Za-z]+ [0-9.]+ ms.*"), "the decoder's profile by operator:\n" + text);
		String last = text.lines().reduce((a, b) -> b).orElseThrow();
		assertTrue(last.matches("overhead over the best floor: \\d+\\.\\d{3}"), last);
		assertFalse(Double.isNaN(r.overhead));
		// ours ran first with a fresh folder: its first load had the files written by separate processes, reported
		// apart from its own peak; the second round read them
		assertEquals(1, r.values("ours", "optimize.count").size(), "only the first load optimises");
		assertTrue(text.matches("(?s).*\n  ours\\s+its first load had [0-9]+ optimised files written by separate processes: "
			+ "[0-9.]+ m?s in all \\(within its load time\\), their largest peak [0-9]+ MB \\(not in its peak RSS\\).*"), text);
	}

	@Test
	void optimizeInProcessIsPassedToTheChildren() {
		ConfigComparison.Options o = options("ours");
		ConfigComparison.Config ours = ConfigComparison.configs(0, null).get(0);
		assertFalse(String.join(" ", ConfigComparison.probeCommand(o, ours, 64, 64)).contains("sd.optimize"));
		o.optimizeInProcess = true;
		assertTrue(ConfigComparison.probeCommand(o, ours, 64, 64).contains("-Dsd.optimize=in-process"));
	}

	@Test
	void sd4jsConfigurationIsAllWithArenaAndMemoryPatternEverywhereAndBatchedCfg() {
		ConfigComparison.Config sd4j = ConfigComparison.configs(2, null).stream().filter(c -> c.name().equals("sd4j"))
			.findFirst().orElseThrow();
		assertEquals(OptLevel.ALL_OPT, sd4j.runtime().optLevel());
		assertEquals(ArenaUse.ALL, sd4j.runtime().cpuArena());
		assertEquals(Boolean.TRUE, sd4j.runtime().memoryPattern());
		assertEquals(CfgMode.BATCHED, sd4j.runtime().cfg());
		assertFalse(sd4j.releaseArenas());
		// what the child is told is what it runs
		ConfigComparison.Config parsed = ConfigComparison.Config.parse(sd4j.spec());
		assertEquals(sd4j.runtime(), parsed.runtime());
		assertEquals(sd4j.releaseArenas(), parsed.releaseArenas());
		assertEquals(null, sd4j.runtime().optimizedModels(), "sd4j optimises on every load");
		// ours: the defaults, per-component levels and optimised files included, survive the trip to the child
		ConfigComparison.Config ours = ConfigComparison.configs(2, java.nio.file.Path.of("/tmp/x")).get(0);
		assertEquals("ours", ours.name());
		assertEquals(ours.runtime(), ConfigComparison.Config.parse(ours.spec()).runtime());
		assertEquals(OptLevel.ALL_OPT, ours.runtime().optLevel("vae_decoder"));
	}

	@Test
	void unknownConfigurationNamesAreRefusedWithTheKnownOnes() {
		var e = assertThrows(IllegalArgumentException.class, () -> ConfigComparison.parseNames(List.of("fastest")));
		assertTrue(e.getMessage().contains("sd4j"), e.getMessage());
	}
}
