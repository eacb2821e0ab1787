package sc.fiji.sd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;



/**
 * The benchmark on a random-weight fixture: the report is well formed, the floor replays exactly the calls a
 * generation makes, and the CFG/guidance rules show in the call counts. No timing is asserted (machines differ).
 */
class BenchmarkTest {

	private static final Pattern ROW = Pattern.compile(".+\\S\\s+\\d+\\.\\d+ ms\\s+\\d+\\.\\d+ ms\\s+\\d+\\.\\d+ ms\\s+\\d+");

	private static Benchmark.Options options(int steps, double guidance) {
		Benchmark.Options o = new Benchmark.Options();
		o.model = BenchFixtures.folder("optimum");
		o.device = "cpu";
		o.steps = steps;
		o.width = 32;
		o.height = 32;
		o.guidance = guidance;
		o.runs = 2;
		o.scheduler = "Euler"; // one UNet call per step (PNDM makes one more)
		return o;
	}

	@Test
	void reportIsATableOfMediansEndingWithTheOverheadLine() {
		StringWriter progress = new StringWriter();
		BenchReport report = Benchmark.run(options(3, 7.0), new PrintWriter(progress));
		String text = report.format();
		String[] lines = text.split("\n");

		assertTrue(lines[0].startsWith("bench: optimum"), lines[0]);
		int table = List.of(lines).indexOf(List.of(lines).stream().filter(l -> l.startsWith("stage ")).findFirst()
			.orElseThrow());
		assertTrue(lines[table].matches("stage\\s+median\\s+min\\s+max\\s+n"), lines[table]);
		for (String stage : new String[] { "session load, cold (all components)", "first generation (after load)",
			"text encoding (per generation)", "UNet call", "VAE decode (per generation)", "generation (whole)",
			"ONNX floor (same calls, bare loop)" })
		{
			String row = List.of(lines).stream().filter(l -> l.startsWith(stage + " ")).findFirst().orElse(null);
			assertTrue(row != null && ROW.matcher(row).matches(), "row for '" + stage + "': " + row);
		}
		assertEquals(2, report.row("generation (whole)").seconds().length, "one value per timed run");
		assertTrue(text.contains("peak RSS"), "memory line");
		// 3 Euler steps, CFG batched: 3 UNet calls in the first generation, each component named
		assertTrue(text.matches("(?s).*\nfirst generation by stage: text encoder [0-9.]+ ms, UNet [0-9.]+ ms in 3 calls "
			+ "\\(first [0-9.]+ ms, median of the others [0-9.]+ ms\\), VAE decoder [0-9.]+ ms\n.*"), text);

		String last = lines[lines.length - 1];
		assertTrue(last.matches("overhead: \\d+\\.\\d{3}"), last);
		double median = report.row("generation (whole)").median() / report.row("ONNX floor (same calls, bare loop)").median();
		assertEquals(String.format(java.util.Locale.ROOT, "overhead: %.3f", median), last);
		assertTrue(progress.toString().contains("run 2 of 2"), "progress goes to the log, not the report");
	}

	@Test
	void floorReplaysExactlyTheCallsOfOneGeneration() {
		BenchReport report = Benchmark.run(options(4, 7.0), null);
		assertEquals(4, report.unetCallsPerGeneration(), "Euler: one UNet call per step");
		assertEquals(4, report.callsPerGeneration().get("unet"), "the floor replays every UNet call");
		assertEquals(2, report.unetBatch(), "CFG runs [uncond, cond] in one batch-2 call");
		assertEquals(2, report.callsPerGeneration().get("text_encoder"), "prompt and negative prompt");
		assertEquals(1, report.callsPerGeneration().get("vae_decoder"));
		assertEquals(4 * 2, report.row("UNet call").seconds().length, "4 calls in each of 2 timed runs");
		assertTrue(report.row("CFG step as two batch-1 UNet calls") != null, "both CFG strategies measured");
	}

	@Test
	void separateCfgCallsAreReplayedAndStillCompared() {
		Benchmark.Options o = options(3, 7.0);
		o.cfgMode = sc.fiji.sd.onnx.CfgMode.SEPARATE;
		BenchReport report = Benchmark.run(o, null);
		assertEquals(6, report.callsPerGeneration().get("unet"), "two calls per step");
		assertEquals(1, report.unetBatch());
		assertTrue(report.row("CFG step as one batch-2 UNet call") != null, "the batch-2 call is built from the two halves");
		assertTrue(report.format().contains("CFG separate: two batch-1 calls per step"), report.format());
	}

	@Test
	void guidanceAtOrBelowOneMakesOneBatchOneUnetCallPerStep() {
		BenchReport report = Benchmark.run(options(3, 1.0), null);
		assertEquals(3, report.callsPerGeneration().get("unet"));
		assertEquals(1, report.unetBatch(), "no unconditional pass");
		assertEquals(1, report.callsPerGeneration().get("text_encoder"), "no negative prompt encoded");
		assertTrue(report.row("CFG step as one batch-2 UNet call") == null, "nothing to compare without CFG");
	}
}
