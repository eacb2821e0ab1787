package sc.fiji.sd.onnx;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.ExecutionProviders.SessionMemory;
import sc.fiji.sd.onnx.RuntimeOptions.ArenaUse;

/**
 * Writes a component's optimised-model file ({@link OptimizedModelCache}) in a Java process of its own, started by the
 * first load of a model and waited for, so that the process that generates never holds ONNX Runtime's optimiser
 * memory (an SD-1.5 UNet optimised at ALL inside the loading process left that process's peak at the memory goal's
 * edge, 7.06–7.13 GB of 7.13, PERFORMANCE.md). The load then opens the written file like every later load: the first
 * generation computes exactly what later ones do (the same ALL graph, the same pixels), which opening the sessions
 * at BASIC and optimising in the background would not (GoldenPixelsTest: BASIC rounds differently on 32 of its 33
 * cases).
 * <p>
 * The child starts only when the cache folder is writable and the system's free memory holds its estimated peak
 * ({@link #estimatedPeakBytes}); otherwise, or when it fails, the component opens at the level used without an
 * optimised file and a log line says why. Two processes loading the same model wait for one another on the entry's
 * lock. {@code -Dsd.optimize=in-process} optimises inside the loading process, as before (for {@code bench}, whose
 * first-load numbers stay comparable with earlier rounds).
 */
public final class ModelOptimizer {

	/** The system property choosing where the first load optimises: {@code process} (default) or {@code in-process}. */
	public static final String PLACEMENT = "sd.optimize";
	/** The child's last line on success: {@code optimized<TAB>seconds<TAB>peak bytes}. */
	static final String DONE = "optimized";
	/** The child's JVM and ONNX Runtime. */
	static final long BASE_BYTES = 300L << 20;
	/**
	 * Peak of the optimising process per byte of the model file itself (weights stored inside the protobuf: read into
	 * memory, then copied into the session's initializers) and per byte of the files beside it (external weights,
	 * which ONNX Runtime maps). Measured with {@link #main}'s own peak report on the SD-1.5-size model (2026-12-05):
	 * UNet (0.9 MB graph + 3.44 GB weights.pb) 3.7 GB, text encoder (0.49 GB inline) 1.1 GB, VAE decoder (0.20 GB)
	 * 0.5 GB, VAE encoder (0.14 GB) 0.4 GB; these factors estimate 4.1, 1.3, 0.7 and 0.6 GB.
	 */
	static final double PEAK_PER_INLINE_BYTE = 2.0, PEAK_PER_EXTERNAL_BYTE = 1.1;

	private static final System.Logger LOG = System.getLogger("sc.fiji.sd");
	private static final List<Run> RUNS = new CopyOnWriteArrayList<>();

	/**
	 * One optimisation in a separate process: what, its wall time (JVM start included), the child's peak resident
	 * memory, and why it failed or did not start (null when the file was written).
	 */
	public record Run(String model, String component, double seconds, long peakBytes, String failure) {
		public boolean written() {
			return failure == null;
		}
	}

	private ModelOptimizer() {}

	/** The optimisations this process started, in order (for {@code bench} and tests). */
	public static List<Run> runs() {
		return List.copyOf(RUNS);
	}

	/** Whether the first load optimises inside the loading process ({@code -Dsd.optimize=in-process}). */
	public static boolean inProcess() {
		return "in-process".equalsIgnoreCase(System.getProperty(PLACEMENT, "").trim());
	}

	/** The estimated peak resident memory of a process optimising {@code modelFile} (see the factors above). */
	public static long estimatedPeakBytes(Path modelFile) {
		long inline = modelFile.toFile().length(), external = Math.max(0, componentBytes(modelFile) - inline);
		return BASE_BYTES + (long) (PEAK_PER_INLINE_BYTE * inline + PEAK_PER_EXTERNAL_BYTE * external);
	}

	/** The size of a component: its model file and the files beside it (external weights). */
	static long componentBytes(Path modelFile) {
		Path dir = modelFile.toAbsolutePath().getParent();
		try (Stream<Path> files = Files.list(dir)) {
			return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
		}
		catch (IOException | RuntimeException e) {
			return modelFile.toFile().length();
		}
	}

	/**
	 * Optimises {@code file} into {@code entry} in this process, holding the entry's lock: returns the session that
	 * optimised (the caller closes it), or null when another process wrote the entry meanwhile. An entry there but not
	 * complete (half-written, damaged, from a build without manifests) is removed and written again.
	 */
	static OrtSession writeHere(Path file, RuntimeOptions options, Device device, SessionMemory memory, String component,
		Path entry) throws IOException, OrtException
	{
		try (Closeable lock = OptimizedModelCache.lock(entry)) {
			if (OptimizedModelCache.complete(entry) != null) return null;
			OptimizedModelCache.delete(entry);
			Path staging = OptimizedModelCache.staging(entry);
			try (SessionOptions o = ExecutionProviders.sessionOptions(options, device, memory, component)) {
				o.setOptimizedModelFilePath(staging.resolve(OptimizedModelCache.MODEL).toString());
				// a UNet's weights exceed protobuf's 2 GB: they go to one external file beside the graph
				o.addConfigEntry("session.optimized_model_external_initializers_file_name", OptimizedModelCache.WEIGHTS);
				o.addConfigEntry("session.optimized_model_external_initializers_min_size_in_bytes", "1024");
				OrtSession s = OnnxEnvironment.get().createSession(file.toString(), o);
				try {
					OptimizedModelCache.writeManifest(staging);
				}
				catch (IOException | RuntimeException e) {
					s.close();
					throw e;
				}
				OptimizedModelCache.commit(staging, entry);
				new OptimizedModelCache(entry.getParent()).pruneUnused();
				return s;
			}
			catch (IOException | OrtException | RuntimeException e) {
				OptimizedModelCache.delete(staging);
				throw e;
			}
		}
	}

	/**
	 * Writes {@code entry} for {@code file} in a child process and waits for it; says in the log that it starts, why it
	 * does not, and what it cost. The result says whether the file was written.
	 */
	static Run inSeparateProcess(Path file, Path entry, RuntimeOptions options, SessionMemory memory, String component,
		long freeBytes)
	{
		String model = modelName(file);
		String what = model + " (" + component + ")";
		long need = estimatedPeakBytes(file);
		if (need > freeBytes) {
			return done(new Run(model, component, 0, 0, String.format(Locale.ROOT, "not optimising %s: its optimiser "
				+ "needs about %s and %s are free; it loads unoptimised (slower steps). Close other programs and load it "
				+ "again to optimise it once", what, gb(need), gb(freeBytes))));
		}
		try {
			Files.createDirectories(entry.getParent());
			if (!Files.isWritable(entry.getParent())) throw new IOException(entry.getParent() + " is not writable");
		}
		catch (IOException | RuntimeException e) {
			return done(new Run(model, component, 0, 0, "not optimising " + what + ": the cache folder cannot be "
				+ "written (" + e.getMessage() + "); it loads unoptimised. Set -Dsd.optimizedModels=<folder> to a "
				+ "writable folder, or off"));
		}
		LOG.log(System.Logger.Level.INFO, "Optimising " + what + " in a separate process for faster later loads and "
			+ "steps (once per model; about " + gb(need) + " of memory)");
		long start = System.nanoTime();
		Process p = null;
		try {
			p = new ProcessBuilder(command(file, entry, options, memory, component)).redirectErrorStream(true).start();
			String last = "", result = null;
			try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
				for (String line; (line = r.readLine()) != null;) {
					if (line.startsWith(DONE + "\t")) result = line;
					else if (!line.isBlank()) last = line;
				}
			}
			int rc = p.waitFor();
			double seconds = (System.nanoTime() - start) / 1e9;
			if (rc != 0 || result == null) return done(new Run(model, component, seconds, 0, "optimising " + what
				+ " failed (exit " + rc + (last.isEmpty() ? "" : ": " + last) + "); it loads unoptimised"));
			return done(new Run(model, component, seconds, Long.parseLong(result.split("\t")[2]), null));
		}
		catch (IOException | RuntimeException e) {
			return done(new Run(model, component, (System.nanoTime() - start) / 1e9, 0, "optimising " + what
				+ " could not start a process (" + e.getMessage() + "); it loads unoptimised"));
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			return done(new Run(model, component, (System.nanoTime() - start) / 1e9, 0, "optimising " + what
				+ " was interrupted; it loads unoptimised"));
		}
		finally {
			if (p != null && p.isAlive()) p.destroyForcibly(); // its staging folder is never read, pruned later
		}
	}

	private static Run done(Run run) {
		RUNS.add(run);
		if (run.written()) LOG.log(System.Logger.Level.INFO, String.format(Locale.ROOT, "Optimised %s (%s) in %.1f s "
			+ "(separate process, peak %s); later loads read the optimised file", run.model(), run.component(),
			run.seconds(), gb(run.peakBytes())));
		else LOG.log(System.Logger.Level.WARNING, run.failure());
		return run;
	}

	/** The child's command line: this JVM, the class path of this class and of ONNX Runtime. */
	static List<String> command(Path file, Path entry, RuntimeOptions options, SessionMemory memory, String component) {
		List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
			"-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
		for (String key : List.of("java.io.tmpdir", "onnxruntime.native.path")) {
			String v = System.getProperty(key);
			if (v != null) cmd.add("-D" + key + "=" + v);
		}
		String config = options.ortConfig().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
			.collect(Collectors.joining(","));
		cmd.addAll(List.of("-cp", classPath(), ModelOptimizer.class.getName(), file.toAbsolutePath().toString(),
			entry.toAbsolutePath().toString(), component, options.optLevel(component).name(), memory.name(),
			String.valueOf(options.threads()), config));
		return cmd;
	}

	/** Where this class and ONNX Runtime's Java API were loaded from (Fiji's class path is not the JVM's). */
	static String classPath() {
		Set<String> parts = new LinkedHashSet<>();
		for (Class<?> c : List.of(ModelOptimizer.class, OrtSession.class)) {
			CodeSource source = c.getProtectionDomain().getCodeSource();
			try {
				if (source != null) parts.add(Path.of(source.getLocation().toURI()).toString());
			}
			catch (URISyntaxException | RuntimeException e) {
				// not a file: the JVM's class path below may still have it
			}
		}
		if (parts.size() < 2) parts.add(System.getProperty("java.class.path"));
		return String.join(File.pathSeparator, parts);
	}

	/**
	 * The child: {@code <model file> <entry> <component> <level> <memory> <threads> <config k=v,…>}. Writes the entry
	 * (nothing when another process did meanwhile), prints {@link #DONE} with its time and peak, exits 0; on failure
	 * prints one line saying why and exits 1.
	 */
	public static void main(String[] args) {
		long start = System.nanoTime();
		try {
			Path file = Path.of(args[0]), entry = Path.of(args[1]);
			String component = args[2];
			RuntimeOptions options = new RuntimeOptions(Integer.parseInt(args[5]), Device.CPU, CfgMode.AUTO,
				ArenaUse.AUTO, null, OptLevel.BASIC_OPT, RuntimeOptions.parseConfigEntries(args.length > 6 ? args[6] : ""),
				"HEURISTIC", VaeTiling.DEFAULT, Map.of(component, OptLevel.valueOf(args[3])), entry.getParent());
			OrtSession s = writeHere(file, options, Device.CPU, SessionMemory.valueOf(args[4]), component, entry);
			if (s != null) s.close();
			System.out.println(DONE + "\t" + (System.nanoTime() - start) / 1e9 + "\t" + SystemMemory.status("VmHWM:"));
			System.out.flush();
			System.exit(0); // no lingering ONNX Runtime threads
		}
		catch (Throwable e) {
			System.out.println(OnnxEnvironment.firstLine(String.valueOf(e.getMessage())));
			System.out.flush();
			System.exit(1);
		}
	}

	private static String modelName(Path file) {
		Path dir = file.toAbsolutePath().getParent();
		Path model = dir == null ? null : dir.getParent();
		return model == null || model.getFileName() == null ? file.toString() : model.getFileName().toString();
	}

	private static String gb(long bytes) {
		return String.format(Locale.ROOT, "%.1f GB", bytes / 1e9);
	}
}
