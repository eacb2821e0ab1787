package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.batch.BatchResults;
import sc.fiji.sd.provenance.PngReader;

/** The batch command end to end: outputs and their provenance, resuming after kill -9, shards and merging. */
class BatchCommandTest {

	@TempDir
	Path dir;

	static final int ROWS = 8, STEPS = 6;

	@Test
	void writesNumberedPngsWithParametersAndAResultsManifest() throws Exception {
		Path m = BatchOutputs.manifest(dir, 3, 2), out = dir.resolve("out");
		CliRun r = CliRun.of("batch", "--manifest", m.toString(), "--out", out.toString());
		assertEquals(0, r.exitCode(), r.err());
		assertEquals(List.of("row0000-img00.png", "row0001-img00.png", "row0001-img01.png", "row0002-img00.png"),
			BatchOutputs.pngs(out));
		String parameters = PngReader.readText(out.resolve("row0001-img01.png")).get("parameters");
		assertTrue(parameters.startsWith("a green square\nSteps: 2,"), parameters);
		assertTrue(parameters.contains("Seed: 102,"), "the row's second image has seed + 1: " + parameters);
		List<String> lines = Files.readAllLines(out.resolve(BatchResults.MERGED));
		assertEquals(4, lines.size());
		assertTrue(lines.get(0).contains("\"sha256\":\"" + BatchResults.sha256(out.resolve("row0000-img00.png")) + "\""));
		assertTrue(lines.get(0).contains("a red circle, on a blue background"), lines.get(0));
		assertTrue(r.err().contains("[3/3] row 2: 1 image(s)"), "progress on stderr: " + r.err());
	}

	@Test
	void aBadRowFailsTheBatchBeforeAnythingRuns() throws Exception {
		Path m = dir.resolve("m.csv"), out = dir.resolve("out");
		Files.writeString(m, "prompt,steps\nfine,2\n\"bad, really\",two\n");
		CliRun r = CliRun.of("batch", "--manifest", m.toString(), "--out", out.toString());
		assertEquals(Main.EXIT_USAGE, r.exitCode());
		assertTrue(r.cleanError(), r.err());
		assertTrue(r.err().contains("row 1 (line 3), column steps: 'two' is not a whole number"), r.err());
		assertFalse(Files.exists(out), "nothing generated, not even the folder");
	}

	/**
	 * kill -9 in the middle of a batch, then the same command again: rows the results manifest records (with
	 * matching checksums) keep their files untouched, the rest are made, and the outputs equal a clean run's pixel for
	 * pixel.
	 */
	@Test
	void resumesAfterKill9WithoutRedoingDoneRows() throws Exception {
		Path m = BatchOutputs.manifest(dir, ROWS, STEPS), out = dir.resolve("resumed"), results = out.resolve(BatchResults.MERGED);
		Process p = new ProcessBuilder(BatchOutputs.javaCommand("batch", "--manifest", m.toString(), "--out",
			out.toString())).redirectErrorStream(true).redirectOutput(dir.resolve("killed.log").toFile()).start();
		try {
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
			// the manifest appears after the first row: kill right then, mid-batch
			while (!Files.exists(results) && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(10);
		}
		finally {
			p.destroyForcibly(); // SIGKILL: no shutdown hooks, no cleanup
			p.waitFor(30, TimeUnit.SECONDS);
		}
		assertTrue(Files.exists(results), "the first row never finished: " + Files.readString(dir.resolve("killed.log")));
		List<BatchResults.Entry> before = readEntries(results);
		assertFalse(before.isEmpty());
		int doneRows = (int) before.stream().mapToInt(BatchResults.Entry::row).distinct().count();
		assertTrue(doneRows < ROWS, "the kill came after the whole batch: make the rows slower");
		Map<String, Object[]> identity = new HashMap<>();
		for (BatchResults.Entry e : before) identity.put(e.file(), fileIdentity(out.resolve(e.file())));

		CliRun again = CliRun.of("batch", "--manifest", m.toString(), "--out", out.toString());
		assertEquals(0, again.exitCode(), again.err());
		for (BatchResults.Entry e : before) {
			assertTrue(again.err().contains("row " + e.row() + ": done before, skipped"), again.err());
			Object[] now = fileIdentity(out.resolve(e.file()));
			assertEquals(identity.get(e.file())[0], now[0], e.file() + " was rewritten (inode)");
			assertEquals(identity.get(e.file())[1], now[1], e.file() + " was rewritten (mtime)");
		}
		assertTrue(again.out().contains("skipped " + doneRows + " done row(s)"), again.out());
		try (var s = Files.list(out)) {
			assertTrue(s.noneMatch(f -> f.getFileName().toString().endsWith(".part")), "unfinished files are cleaned up");
		}

		Path clean = dir.resolve("clean");
		assertEquals(0, CliRun.of("batch", "--manifest", m.toString(), "--out", clean.toString()).exitCode());
		BatchOutputs.assertSamePixels(clean, out);
		assertEquals(Files.readString(clean.resolve(BatchResults.MERGED)), Files.readString(results),
			"the same results manifest, checksums included");
	}

	@Test
	void aChangedFileOrAnEditedRowIsMadeAgain() throws Exception {
		Path m = BatchOutputs.manifest(dir, 3, 2), out = dir.resolve("out");
		assertEquals(0, CliRun.of("batch", "--manifest", m.toString(), "--out", out.toString()).exitCode());
		Path first = out.resolve("row0000-img00.png");
		String sha = BatchResults.sha256(first);
		Files.write(first, new byte[] { 1, 2, 3 }); // damaged
		Files.writeString(m, Files.readString(m).replace("a green square", "a large green square"));
		CliRun r = CliRun.of("batch", "--manifest", m.toString(), "--out", out.toString());
		assertEquals(0, r.exitCode(), r.err());
		assertEquals(sha, BatchResults.sha256(first), "the damaged file is made again, identically");
		assertTrue(r.err().contains("row 2: done before, skipped"), r.err());
		assertFalse(r.err().contains("row 1: done before"), "row 1 was edited: " + r.err());
		assertTrue(PngReader.readText(out.resolve("row0001-img00.png")).get("parameters").startsWith("a large green square"));
	}

	@Test
	void aRowThatFailsWhileRunningIsNamedAndTheRowsBeforeItAreKept() throws Exception {
		Path in = dir.resolve("in.png"), m = dir.resolve("m.csv"), out = dir.resolve("out");
		sc.fiji.sd.provenance.PngWriter.write(in, net.imglib2.img.array.ArrayImgs.floats(64, 64, 3), Map.of());
		// only the image's size, read when the row runs, shows that 128 does not fit it
		Files.writeString(m, "prompt,steps,seed,image,width\nfine,1,1,,\nredraw,1,1,in.png,128\n");
		CliRun r = CliRun.of("batch", "--manifest", m.toString(), "--out", out.toString());
		assertEquals(Main.EXIT_ERROR, r.exitCode());
		assertFalse(r.err().contains("\tat ") || r.err().contains("Exception"), "no stack trace: " + r.err());
		assertTrue(r.err().contains("error: Row 1 (line 3): The input image is 64x64 but the output size is 128x"), r.err());
		assertTrue(r.err().contains("The rows before it are done and kept"), r.err());
		assertEquals(List.of("row0000-img00.png"), BatchOutputs.pngs(out));
		assertEquals(1, Files.readAllLines(out.resolve(BatchResults.MERGED)).size());
	}

	@Test
	void shardsThenMergeEqualASingleRun() throws Exception {
		Path m = BatchOutputs.manifest(dir, 5, 2), sharded = dir.resolve("sharded"), single = dir.resolve("single");
		for (int i = 0; i < 3; i++) {
			CliRun r = CliRun.of("batch", "--manifest", m.toString(), "--out", sharded.toString(), "--shard", i + "/3");
			assertEquals(0, r.exitCode(), r.err());
			assertTrue(Files.exists(sharded.resolve("results-shard-" + i + "-of-3.jsonl")));
		}
		CliRun merged = CliRun.of("batch", "--merge", "--out", sharded.toString());
		assertEquals(0, merged.exitCode(), merged.err());
		assertTrue(merged.out().contains("Merged 3 shard manifest(s): 6 image(s)"), merged.out());
		assertEquals(0, CliRun.of("batch", "--manifest", m.toString(), "--out", single.toString()).exitCode());
		BatchOutputs.assertSamePixels(single, sharded);
		assertEquals(Files.readString(single.resolve(BatchResults.MERGED)),
			Files.readString(sharded.resolve(BatchResults.MERGED)));

		// a file changed after its shard ran: the merge refuses and names it
		Files.write(sharded.resolve("row0003-img00.png"), new byte[] { 0 });
		CliRun bad = CliRun.of("batch", "--merge", "--out", sharded.toString());
		assertEquals(Main.EXIT_ERROR, bad.exitCode());
		assertTrue(bad.err().contains("row0003-img00.png: its SHA-256 is not the recorded one"), bad.err());
	}

	@Test
	void aShardRemovesOnlyItsOwnUnfinishedFiles() throws Exception {
		// the tasks of a job array share the folder and start at different times: one task's start must not delete
		// the file another task is writing (row 1 is shard 1's), while its own killed run's leftover (row 2) goes
		Path m = BatchOutputs.manifest(dir, 4, 1), out = Files.createDirectories(dir.resolve("out"));
		Path othersInProgress = Files.writeString(out.resolve(".row0001-img00.png.1f2e3d.part"), "being written");
		Path ownLeftover = Files.writeString(out.resolve(".row0002-img00.png.4c5b6a.part"), "killed run");
		CliRun r = CliRun.of("batch", "--manifest", m.toString(), "--out", out.toString(), "--shard", "0/2");
		assertEquals(0, r.exitCode(), r.err());
		assertTrue(Files.exists(othersInProgress), "another shard's file in progress was deleted");
		assertFalse(Files.exists(ownLeftover), "this shard's unfinished file was left");
		assertTrue(Files.exists(out.resolve("row0002-img00.png")));
	}

	@Test
	void theShardComesFromTheSlurmArrayVariables() throws Exception {
		Path m = BatchOutputs.manifest(dir, 4, 1), out = dir.resolve("out");
		var cl = Main.commandLine(CliRun.MODELS);
		var sw = new java.io.StringWriter();
		cl.setErr(new java.io.PrintWriter(sw, true));
		cl.setOut(new java.io.PrintWriter(new java.io.StringWriter(), true));
		BatchCommand batch = cl.getSubcommands().get("batch").getCommand();
		batch.environment = Map.of("SLURM_ARRAY_TASK_ID", "6", "SLURM_ARRAY_TASK_MIN", "5", "SLURM_ARRAY_TASK_COUNT", "2");
		assertEquals(0, cl.execute("batch", "--manifest", m.toString(), "--out", out.toString()), sw.toString());
		assertEquals(List.of("row0001-img00.png", "row0001-img01.png", "row0003-img00.png"), BatchOutputs.pngs(out));
		assertTrue(Files.exists(out.resolve("results-shard-1-of-2.jsonl")));
	}

	@Test
	void usageErrors() throws Exception {
		assertEquals(Main.EXIT_USAGE, CliRun.of("batch", "--out", dir.toString()).exitCode());
		assertEquals(Main.EXIT_USAGE, CliRun.of("batch", "--manifest", "x.csv", "--out", dir.toString(), "--shard", "3/3").exitCode());
		CliRun merge = CliRun.of("batch", "--merge", "--out", dir.toString());
		assertEquals(Main.EXIT_ERROR, merge.exitCode());
		assertTrue(merge.err().contains("No shard results"), merge.err());
	}

	private static List<BatchResults.Entry> readEntries(Path results) throws Exception {
		com.google.gson.Gson gson = new com.google.gson.Gson();
		return Files.readAllLines(results).stream().filter(l -> !l.isBlank())
			.map(l -> gson.fromJson(l, BatchResults.Entry.class)).toList();
	}

	private static Object[] fileIdentity(Path p) throws Exception {
		Object inode = Files.getAttribute(p, "unix:ino");
		FileTime mtime = Files.getLastModifiedTime(p);
		return new Object[] { inode, mtime };
	}

}
