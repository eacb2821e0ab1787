package sc.fiji.sd.onnx;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;

/**
 * Optimised model files, so that a graph optimisation above BASIC (ALL: the CPU's NCHWc convolution layouts and
 * fusions) is paid once and not on every load: the first session at that level writes its optimised graph
 * ({@code SessionOptions.setOptimizedModelFilePath}, weights in an external file beside it) into a folder of the
 * user's cache; later loads open that file with graph optimisation off.
 * <p>
 * The folder's name is a hash of what the optimised graph depends on: the model file and the files beside it
 * (external weights, configs) by name and contents (for files over 64 MB: size, modification time and first and
 * last 4 MB, so that a copy of a small model reuses the entry and a multi-GB file is not read on every load), the
 * ONNX Runtime version, the level, the device, the session config entries,
 * and the CPU (model name and instruction-set flags: ONNX Runtime says files optimised at ALL are only for the machine
 * they were written on). Anything changed gives a new folder. A folder is used only once complete (written under a
 * temporary name, with a manifest of its files' sizes written last, then renamed; {@link #complete} checks the sizes),
 * so a load that died half way leaves nothing that is read later; one writer per entry at a time ({@link #lock}).
 * Written by a process of its own ({@link ModelOptimizer}), so that a generation never shares memory with the
 * optimiser. Never written next to
 * the user's model, whose folder may be read-only or shared. Entries unused for 30 days are removed when a new entry is
 * written ({@link #pruneUnused}).
 */
public final class OptimizedModelCache {

	static final String MODEL = "model.onnx", WEIGHTS = "model.onnx.data", MANIFEST = "complete.txt";
	private static final long WHOLE_HASH_LIMIT = 64L << 20, SAMPLE = 4L << 20;

	private final Path root;

	public OptimizedModelCache(Path root) {
		this.root = root;
	}

	/** {@code $XDG_CACHE_HOME/stable-diffusion-fiji/optimized} (default {@code ~/.cache/...}). */
	public static Path userFolder() {
		String base = System.getenv("XDG_CACHE_HOME");
		Path root = base != null && !base.isBlank() ? Paths.get(base) : Paths.get(System.getProperty("user.home", "."),
			".cache");
		return root.resolve("stable-diffusion-fiji").resolve("optimized");
	}

	public Path root() { return root; }

	/** The folder of {@code model}'s optimised file for these settings (it may not exist yet). */
	public Path entry(Path model, OptLevel level, ExecutionProviders.Device device, Map<String, String> config,
		String ortVersion) throws IOException
	{
		MessageDigest d = sha256();
		update(d, "model", fileHash(model));
		Path dir = model.toAbsolutePath().getParent();
		if (dir != null) {
			try (Stream<Path> files = Files.list(dir)) {
				for (Path p : (Iterable<Path>) files.sorted()::iterator) {
					if (p.getFileName().equals(model.getFileName()) || !Files.isRegularFile(p)) continue;
					update(d, "beside", p.getFileName() + ":" + fileHash(p));
				}
			}
		}
		update(d, "ort", ortVersion);
		update(d, "level", level.name());
		update(d, "device", device.name());
		update(d, "config", new TreeMap<>(config).toString());
		update(d, "cpu", cpuIdentity());
		String parent = dir == null ? "model" : dir.getFileName().toString();
		return root.resolve(parent + "-" + HexFormat.of().formatHex(d.digest()).substring(0, 24));
	}

	/**
	 * The optimised model file in a complete entry, or null: complete means its manifest ({@value #MANIFEST}, written
	 * last, before the rename) lists every file with the size it has now. An entry cut short by a full disk, a
	 * truncated copy or a crash of an older build without a manifest is then never read; the next load writes it again.
	 */
	public static Path complete(Path entry) {
		Path file = entry.resolve(MODEL);
		if (!Files.isRegularFile(file)) return null;
		try {
			List<String> lines = Files.readAllLines(entry.resolve(MANIFEST), StandardCharsets.UTF_8);
			if (lines.isEmpty()) return null;
			for (String line : lines) {
				int tab = line.lastIndexOf('\t');
				if (tab < 0) return null;
				Path f = entry.resolve(line.substring(0, tab));
				if (!Files.isRegularFile(f) || Files.size(f) != Long.parseLong(line.substring(tab + 1))) return null;
			}
			return file;
		}
		catch (IOException | RuntimeException e) {
			return null;
		}
	}

	/** Writes the manifest of a staged folder whose files are all written: the last step before {@link #commit}. */
	static void writeManifest(Path staging) throws IOException {
		StringBuilder s = new StringBuilder();
		try (Stream<Path> files = Files.list(staging)) {
			for (Path f : (Iterable<Path>) files.sorted()::iterator) {
				if (Files.isRegularFile(f) && !f.getFileName().toString().equals(MANIFEST))
					s.append(f.getFileName()).append('\t').append(Files.size(f)).append('\n');
			}
		}
		Files.writeString(staging.resolve(MANIFEST), s.toString(), StandardCharsets.UTF_8);
	}

	/**
	 * Holds the entry's lock file ({@code <entry>.lock} beside it) until closed: two processes that load the same model
	 * for the first time (two Fiji instances) then optimise it once; the second waits and reads the first one's file.
	 * The lock files stay (a few bytes each): deleting one while another process waits on it would let a third in.
	 */
	static Closeable lock(Path entry) throws IOException {
		Files.createDirectories(entry.getParent());
		FileChannel channel = FileChannel.open(entry.resolveSibling(entry.getFileName() + ".lock"),
			StandardOpenOption.CREATE, StandardOpenOption.WRITE);
		try {
			channel.lock();
			return channel; // closing the channel releases the lock
		}
		catch (IOException | RuntimeException e) {
			channel.close();
			throw e;
		}
	}

	/** A fresh folder beside {@code entry} to write into; {@link #commit} renames it into place. */
	public static Path staging(Path entry) throws IOException {
		Files.createDirectories(entry.getParent());
		return Files.createTempDirectory(entry.getParent(), entry.getFileName() + ".writing-");
	}

	/** Makes a staged folder the entry (atomically where the file system can); drops it if another load won. */
	public static void commit(Path staging, Path entry) {
		try {
			Files.move(staging, entry, StandardCopyOption.ATOMIC_MOVE);
		}
		catch (IOException e) {
			delete(staging); // an entry written meanwhile by another process, or no rename: the next load writes again
		}
	}

	/** Entries not used for this long are removed when a new one is written: each holds a copy of a model's weights. */
	static final Duration UNUSED_LIMIT = Duration.ofDays(30);

	/** Marks an entry as used now (its folder's modification time), so that {@link #pruneUnused} keeps it. */
	public static void markUsed(Path entry) {
		try {
			Files.setLastModifiedTime(entry, FileTime.fromMillis(System.currentTimeMillis()));
		}
		catch (IOException e) {
			// a read-only cache: the entry may be pruned by another writer after 30 days and is then written again
		}
	}

	/**
	 * Removes the complete entries that no load has used for {@link #UNUSED_LIMIT} (older models, older ONNX Runtime
	 * versions), and staging folders of that age left by loads that died: otherwise every model ever loaded keeps a
	 * multi-GB copy. Called after a new entry is written, so it costs nothing on ordinary loads.
	 */
	public void pruneUnused() {
		long limit = System.currentTimeMillis() - UNUSED_LIMIT.toMillis();
		try (Stream<Path> entries = Files.list(root)) {
			List<Path> old = entries.filter(e -> e.toFile().lastModified() < limit).sorted().toList();
			for (Path e : old) if (Files.isDirectory(e)) delete(e);
			// then the old lock files whose entry is gone (a writer still holding one is safe: staging + rename)
			for (Path e : old) {
				String name = e.getFileName().toString();
				if (name.endsWith(".lock") && !Files.exists(e.resolveSibling(name.substring(0, name.length() - 5))))
					Files.deleteIfExists(e);
			}
		}
		catch (IOException e) {
			// nothing to prune, or no permission: the next writer tries again
		}
	}

	public static void delete(Path dir) {
		if (dir == null || !Files.exists(dir)) return;
		try (Stream<Path> files = Files.walk(dir)) {
			files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
		}
		catch (IOException e) {
			// a left-over staging folder costs disk only; never read
		}
	}

	private static String fileHash(Path file) throws IOException {
		MessageDigest d = sha256();
		long size = Files.size(file);
		try (InputStream in = Files.newInputStream(file)) {
			if (size <= WHOLE_HASH_LIMIT) {
				digest(d, in, size);
			}
			else { // a multi-GB single-file model: hashing it all would cost seconds on every load
				update(d, "size", size + ":" + Files.getLastModifiedTime(file).toMillis());
				digest(d, in, SAMPLE);
				in.skipNBytes(size - 2 * SAMPLE);
				digest(d, in, SAMPLE);
			}
		}
		return HexFormat.of().formatHex(d.digest());
	}

	private static void digest(MessageDigest d, InputStream in, long n) throws IOException {
		byte[] buf = new byte[1 << 16];
		while (n > 0) {
			int r = in.read(buf, 0, (int) Math.min(buf.length, n));
			if (r < 0) break;
			d.update(buf, 0, r);
			n -= r;
		}
	}

	/** The CPU model name and flags from /proc/cpuinfo (Linux), else the architecture and processor count. */
	static String cpuIdentity() {
		String id = System.getProperty("os.arch") + ":" + System.getProperty("os.name");
		try {
			String model = null, flags = null;
			for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
				if (model == null && line.startsWith("model name")) model = line;
				if (flags == null && line.startsWith("flags")) flags = line;
				if (model != null && flags != null) break;
			}
			return id + ":" + model + ":" + flags;
		}
		catch (IOException | RuntimeException e) {
			return id;
		}
	}

	private static void update(MessageDigest d, String key, String value) {
		d.update((key + "=" + value + "\n").getBytes(StandardCharsets.UTF_8));
	}

	private static MessageDigest sha256() {
		try {
			return MessageDigest.getInstance("SHA-256");
		}
		catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException(e);
		}
	}
}
