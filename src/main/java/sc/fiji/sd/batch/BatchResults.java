package sc.fiji.sd.batch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.provenance.OutputTarget;

/**
 * The results manifest of a batch: one JSON object per line and image, {@code {"row", "image", "file", "sha256",
 * "seed", "parameters", "spec"}} (spec: the row's settings, {@link BatchRow#spec}), sorted by row and image.
 * <p>
 * Crash safety: after every finished row the whole manifest is written to a temporary file, flushed to disk, and renamed
 * over the old one, so a reader (or a re-run after {@code kill -9}) sees the previous complete manifest or the new one,
 * never a torn line. Each shard writes its own file ({@code results-shard-I-of-N.jsonl}); {@link #merge} joins them
 * into {@code results.jsonl}.
 */
public final class BatchResults {

	public static final String MERGED = "results.jsonl";
	static final String PREFIX = "results";
	private static final Gson GSON = new Gson();

	/** One output image. */
	public record Entry(int row, int image, String file, String sha256, long seed, String parameters, String spec) {}

	private final Path file;
	private final Map<String, Entry> entries = new TreeMap<>(); // by file name: rowNNNN-imgMM sorts by row, then image

	private BatchResults(Path file) {
		this.file = file;
	}

	/** This shard's manifest in {@code dir}, starting from what any results manifest there already records. */
	public static BatchResults open(Path dir, Shard shard) {
		BatchResults r = new BatchResults(dir.resolve(shard.resultsName()));
		for (Entry e : readAll(dir)) r.entries.put(e.file(), e);
		return r;
	}

	public Path file() {
		return file;
	}

	/** The recorded entry for an output file, or null. */
	public Entry get(String fileName) {
		return entries.get(fileName);
	}

	public void put(Entry e) {
		entries.put(e.file(), e);
	}

	/** Writes the entries of this shard's rows (temporary file, fsync, atomic rename). */
	public void save(Shard shard) {
		List<Entry> mine = new ArrayList<>();
		for (Entry e : entries.values()) if (shard.contains(e.row())) mine.add(e);
		write(file, mine);
	}

	/** Every entry of every results manifest in {@code dir} (shards' and merged; a later file wins on the same name). */
	static List<Entry> readAll(Path dir) {
		List<Entry> all = new ArrayList<>();
		for (Path p : manifests(dir)) all.addAll(read(p));
		return all;
	}

	/** results.jsonl first, then the shard manifests by name. */
	static List<Path> manifests(Path dir) {
		List<Path> files = new ArrayList<>();
		if (!Files.isDirectory(dir)) return files;
		try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, PREFIX + "*.jsonl")) {
			s.forEach(files::add);
		}
		catch (IOException e) {
			throw new StableDiffusionException("Cannot list " + dir + ": " + e.getMessage(), e);
		}
		files.sort(Comparator.comparing((Path p) -> !p.getFileName().toString().equals(MERGED))
			.thenComparing(p -> p.getFileName().toString()));
		return files;
	}

	static List<Entry> read(Path file) {
		List<Entry> list = new ArrayList<>();
		List<String> lines;
		try {
			lines = Files.readAllLines(file, StandardCharsets.UTF_8);
		}
		catch (IOException e) {
			throw new StableDiffusionException("Cannot read the results manifest " + file + ": " + e.getMessage(), e);
		}
		for (int i = 0; i < lines.size(); i++) {
			if (lines.get(i).isBlank()) continue;
			try {
				Entry e = GSON.fromJson(lines.get(i), Entry.class);
				if (e == null || e.file() == null || e.sha256() == null) throw new JsonParseException("incomplete");
				list.add(e);
			}
			catch (JsonParseException e) {
				throw new StableDiffusionException("The results manifest " + file + " is damaged at line " + (i + 1)
					+ " (" + e.getMessage() + "): delete it to regenerate those rows.", e);
			}
		}
		return list;
	}

	static void write(Path target, Collection<Entry> entries) {
		StringBuilder sb = new StringBuilder();
		for (Entry e : entries) sb.append(GSON.toJson(e)).append('\n');
		Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
		try {
			try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
				StandardOpenOption.TRUNCATE_EXISTING))
			{
				ch.write(StandardCharsets.UTF_8.encode(sb.toString()));
				ch.force(true); // on disk before the rename makes it the manifest
			}
			OutputTarget.moveIntoPlace(tmp, target);
		}
		catch (IOException e) {
			throw new StableDiffusionException("Cannot write the results manifest " + target + ": " + e.getMessage()
				+ ". Check that the folder is writable and the disk not full.", e);
		}
	}

	/** SHA-256 of a file's bytes, in lower-case hex; null when the file does not exist. */
	public static String sha256(Path file) {
		if (!Files.isRegularFile(file)) return null;
		try (InputStream in = Files.newInputStream(file)) {
			MessageDigest md = MessageDigest.getInstance("SHA-256");
			byte[] buffer = new byte[1 << 16];
			for (int n; (n = in.read(buffer)) > 0;) md.update(buffer, 0, n);
			return HexFormat.of().formatHex(md.digest());
		}
		catch (IOException e) {
			throw new StableDiffusionException("Cannot read " + file + ": " + e.getMessage(), e);
		}
		catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException(e);
		}
	}

	/** What {@link #merge} did. */
	public record Merged(Path file, int images, List<Path> shardManifests) {}

	/**
	 * Joins the shard manifests in {@code dir} into {@code results.jsonl}, after checking that every file they list is
	 * there with its recorded SHA-256 and that no two shards disagree about a file. Nothing is written when a check
	 * fails; the message lists the files to regenerate (re-run their shards).
	 */
	public static Merged merge(Path dir) {
		List<Path> shards = new ArrayList<>();
		for (Path p : manifests(dir)) if (!p.getFileName().toString().equals(MERGED)) shards.add(p);
		if (shards.isEmpty()) {
			throw new StableDiffusionException("No shard results (results-shard-*.jsonl) in " + dir
				+ ": run the batch with --shard (or as a SLURM array) first.");
		}
		Map<String, Entry> merged = new TreeMap<>();
		List<String> problems = new ArrayList<>();
		for (Path p : shards) {
			for (Entry e : read(p)) {
				Entry before = merged.put(e.file(), e);
				if (before != null && !before.sha256().equals(e.sha256())) {
					problems.add(e.file() + ": two shard manifests record different checksums (one from " + p.getFileName() + ")");
				}
			}
		}
		for (Entry e : merged.values()) {
			String actual = sha256(dir.resolve(e.file()));
			if (actual == null) problems.add(e.file() + ": missing");
			else if (!actual.equals(e.sha256())) problems.add(e.file() + ": its SHA-256 is not the recorded one (changed or damaged)");
		}
		if (!problems.isEmpty()) {
			throw new StableDiffusionException("Cannot merge the results in " + dir + "; re-run the shards of these files "
				+ "(done rows are skipped):\n  " + String.join("\n  ", problems.subList(0, Math.min(20, problems.size())))
				+ (problems.size() > 20 ? "\n  … and " + (problems.size() - 20) + " more" : ""));
		}
		Path target = dir.resolve(MERGED);
		write(target, merged.values());
		return new Merged(target, merged.size(), shards);
	}

}
