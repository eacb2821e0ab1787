package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Output paths: only regular .png files replaced, permissions kept, a run leaves all its files or none. */
class CliOutputTest {

	@TempDir
	Path dir;

	private CliRun generate(String output, String... more) {
		List<String> args = new java.util.ArrayList<>(List.of("txt2img", "--prompt", "a red circle", "--steps", "1",
			"--seed", "1", "--output", output));
		args.addAll(List.of(more));
		return CliRun.of(args.toArray(String[]::new));
	}

	private List<String> names() throws Exception {
		try (Stream<Path> s = Files.list(dir)) {
			return s.map(p -> p.getFileName().toString()).sorted().toList();
		}
	}

	@Test
	void devicesAreNeverReplaced() throws Exception {
		for (String device : new String[] { "/dev/null", "/dev/full" }) {
			if (!Files.exists(Path.of(device))) continue;
			// A device's name does not end in .png; a link named .png to it is refused as well.
			Path link = Files.createSymbolicLink(dir.resolve(device.substring(5) + ".png"), Path.of(device));
			for (String target : new String[] { device, link.toString() }) {
				CliRun r = generate(target);
				assertEquals(Main.EXIT_USAGE, r.exitCode(), r.err());
				assertTrue(r.cleanError(), r.err());
			}
			assertTrue(generate(link.toString()).err().contains("is not a regular file (a character device)"));
			assertFalse(Files.isRegularFile(Path.of(device)), device + " is still a device");
		}
		Files.createDirectory(dir.resolve("folder.png"));
		CliRun r = generate(dir.resolve("folder.png").toString());
		assertEquals(Main.EXIT_USAGE, r.exitCode(), r.err());
		assertTrue(r.err().contains("a folder"), r.err());
	}

	@Test
	void aJpegNameIsRefusedSayingToUsePng() throws Exception {
		CliRun r = generate(dir.resolve("out.jpg").toString());
		assertEquals(Main.EXIT_USAGE, r.exitCode(), r.err());
		assertTrue(r.err().contains("must be a .png file") && r.err().contains("Use out.png"), r.err());
		assertEquals(List.of(), names());
	}

	@Test
	void replacingAFileKeepsItsPermissions() throws Exception {
		Path out = dir.resolve("private.png");
		Files.writeString(out, "old");
		Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rw-------"));
		CliRun r = generate(out.toString());
		assertEquals(0, r.exitCode(), r.err());
		assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(out)));
		assertFalse(Files.readString(out, java.nio.charset.StandardCharsets.ISO_8859_1).equals("old"));
	}

	@Test
	void aBatchWhoseThirdFileCannotBeWrittenLeavesNoFile() throws Exception {
		// Fault injection: the third image's temporary name is taken by a folder, so writing it fails mid-run.
		String run = ProcessHandle.current().pid() + "-" + (peekRun() + 1);
		Path blocker = Files.createDirectory(dir.resolve(".out-3.png.sd-" + run + ".part"));
		Files.writeString(blocker.resolve("keep"), "a folder that is not empty is not deleted");
		CliRun r = generate(dir.resolve("out.png").toString(), "--batch", "2", "--batch-count", "2");
		assertEquals(1, r.exitCode(), r.err());
		assertTrue(r.cleanError(), r.err());
		assertEquals(List.of(".out-3.png.sd-" + run + ".part"), names(), "no image, no temporary file left");
	}

	private static int peekRun() throws Exception {
		var f = OutputSet.class.getDeclaredField("RUNS");
		f.setAccessible(true);
		return ((java.util.concurrent.atomic.AtomicInteger) f.get(null)).get();
	}

	@Test
	void aBatchWritesAllItsFilesAndCleansStaleTemporariesOfDeadRuns() throws Exception {
		Path dead = Files.writeString(dir.resolve(".old.png.sd-2147483646-1.part"), "killed run");
		Path alive = Files.writeString(dir.resolve(".other.png.sd-" + ProcessHandle.current().pid() + "-999.part"), "running");
		Path oldWriter = Files.writeString(dir.resolve(".x.png.1a2b.part"), "old single write");
		Files.setLastModifiedTime(oldWriter, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
		Path unrelated = Files.writeString(dir.resolve(".notes.part"), "not ours");
		CliRun r = generate(dir.resolve("out.png").toString(), "--batch", "3");
		assertEquals(0, r.exitCode(), r.err());
		assertEquals(List.of(".notes.part", alive.getFileName().toString(), "out-1.png", "out-2.png", "out-3.png"), names());
		assertFalse(Files.exists(dead) || Files.exists(oldWriter));
		assertTrue(Files.exists(unrelated));
	}

	@Test
	void staleRule() {
		Instant now = Instant.now();
		FileTime fresh = FileTime.from(now), dayOld = FileTime.from(now.minus(Duration.ofDays(2)));
		long me = ProcessHandle.current().pid();
		assertTrue(OutputSet.isStale(".a.png.sd-2147483646-1.part", fresh, now), "its process is gone");
		assertFalse(OutputSet.isStale(".a.png.sd-" + me + "-1.part", fresh, now), "a running process's");
		assertTrue(OutputSet.isStale(".a.png.sd-" + me + "-1.part", dayOld, now), "older than a day");
		assertFalse(OutputSet.isStale(".a.png.12ab.part", fresh, now), "a single write may be running");
		assertFalse(OutputSet.isStale("a.png", dayOld, now));
		assertFalse(OutputSet.isStale(".thesis.part", dayOld, now), "not our naming");
	}

	@Test
	void aLinkToARegularFileIsReplacedAndTheFileItPointedToIsKept() throws Exception {
		Path kept = Files.writeString(dir.resolve("kept.txt"), "someone's file");
		Path link = Files.createSymbolicLink(dir.resolve("link.png"), kept);
		CliRun r = generate(link.toString());
		assertEquals(0, r.exitCode(), r.err());
		assertEquals("someone's file", Files.readString(kept));
		assertTrue(Files.isRegularFile(link, java.nio.file.LinkOption.NOFOLLOW_LINKS), "the link became the PNG");
	}
}
