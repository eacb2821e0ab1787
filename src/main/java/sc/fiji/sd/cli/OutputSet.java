package sc.fiji.sd.cli;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.pipeline.GeneratedImage;
import sc.fiji.sd.provenance.OutputTarget;
import sc.fiji.sd.provenance.PngWriter;

/**
 * The files of one run, all or none: each image is written as it finishes to a hidden temporary name
 * {@code .NAME.sd-PID-RUN.part} beside its target, and only when every image is written are they renamed into place. On a
 * failure (or Ctrl-C) the run's temporary files are deleted. A run killed with SIGKILL cannot clean up; the next run
 * into the same folder deletes the temporary files whose process is gone, and any of ours older than a day.
 */
final class OutputSet implements AutoCloseable {

	/** {@code .out-3.png.sd-4711-1.part}: our temporary name, with the owning process id and the run in that process. */
	static final Pattern TEMPORARY = Pattern.compile("^\\.(.+\\.png)\\.sd-(\\d+)-\\d+\\.part$");
	private static final java.util.concurrent.atomic.AtomicInteger RUNS = new java.util.concurrent.atomic.AtomicInteger();
	/** Temporary files of single-file writes ({@link PngWriter}): {@code .out.png.<hex>.part}. */
	static final Pattern WRITER_TEMPORARY = Pattern.compile("^\\..+\\.(png|part)\\.[0-9a-f]+\\.part$");
	static final Duration STALE_AGE = Duration.ofDays(1);
	static final Duration WRITER_STALE_AGE = Duration.ofMinutes(10);

	private final List<Path> targets;
	private final List<Path> temporaries = new ArrayList<>();
	private final Thread cleanupOnSignal = new Thread(this::deleteTemporaries, "delete-unfinished-output");
	private boolean committed;

	/** Checks every target (a .png name; nothing but a regular file replaced) before anything runs. */
	OutputSet(List<Path> targets) {
		this.targets = targets;
		for (Path t : targets) OutputTarget.check(t);
		String run = ProcessHandle.current().pid() + "-" + RUNS.incrementAndGet();
		for (Path t : targets) temporaries.add(t.resolveSibling("." + t.getFileName() + ".sd-" + run + ".part"));
	}

	/** Deletes stale temporary files of earlier runs in {@code folder} (the rule in the class comment); returns how many. */
	static int cleanStale(Path folder) {
		int deleted = 0;
		try (DirectoryStream<Path> files = Files.newDirectoryStream(folder, ".*.part")) {
			for (Path f : files) {
				if (!Files.isRegularFile(f)) continue;
				if (isStale(f.getFileName().toString(), Files.getLastModifiedTime(f), Instant.now())) {
					if (Files.deleteIfExists(f)) deleted++;
				}
			}
		}
		catch (IOException e) {
			// an unreadable folder: the write itself will say what is wrong
		}
		return deleted;
	}

	static boolean isStale(String name, FileTime modified, Instant now) {
		Duration age = Duration.between(modified.toInstant(), now);
		Matcher m = TEMPORARY.matcher(name);
		if (m.matches()) {
			long pid = Long.parseLong(m.group(2));
			boolean alive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false); // ours too: a parallel run
			return !alive || age.compareTo(STALE_AGE) > 0;
		}
		return WRITER_TEMPORARY.matcher(name).matches() && age.compareTo(WRITER_STALE_AGE) > 0;
	}

	/** Starts the run: cleans stale files and arranges for ours to be deleted on Ctrl-C. */
	OutputSet open() {
		Path folder = targets.get(0).toAbsolutePath().getParent();
		if (folder != null) cleanStale(folder);
		Runtime.getRuntime().addShutdownHook(cleanupOnSignal);
		return this;
	}

	/** Writes image {@code index} (0-based) to its temporary file. */
	void write(int index, GeneratedImage image, java.util.Map<String, String> text) {
		if (index >= targets.size()) {
			throw new IllegalStateException("more images than output files: " + (index + 1) + " > " + targets.size());
		}
		PngWriter.writeNew(temporaries.get(index), image.pixels(), text);
	}

	/** Renames the first {@code count} written files into place (all, normally; fewer when the run was cancelled). */
	List<Path> commit(int count) {
		List<Path> done = new ArrayList<>();
		try {
			for (int i = 0; i < count; i++) {
				Path target = targets.get(i), tmp = temporaries.get(i);
				OutputTarget.checkReplaceable(target); // may have changed while the run went on
				OutputTarget.keepPermissions(target, tmp);
				OutputTarget.moveIntoPlace(tmp, target);
				done.add(target);
			}
		}
		catch (IOException e) {
			throw new StableDiffusionException("Cannot write " + targets.get(done.size()) + ": " + e.getMessage()
				+ ". Check that the folder is writable.", e);
		}
		committed = true;
		return done;
	}

	/** Deletes this run's temporary files (all of them after a commit: none are left). */
	@Override
	public void close() {
		deleteTemporaries();
		try {
			Runtime.getRuntime().removeShutdownHook(cleanupOnSignal);
		}
		catch (IllegalStateException e) {
			// the JVM is shutting down: the hook runs anyway
		}
	}

	private void deleteTemporaries() {
		for (Path t : temporaries) {
			try {
				Files.deleteIfExists(t);
			}
			catch (IOException e) {
				// best effort
			}
		}
	}

	boolean committed() {
		return committed;
	}
}
