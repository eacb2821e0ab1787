package sc.fiji.sd.onnx;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.ExecutionProviders.SessionMemory;

/**
 * Opens the sessions of one model on one device, and remembers where they ended up.
 * <p>
 * With {@code auto}, the first session tries CUDA; if CUDA cannot start (CPU-only build, CUDA or cuDNN libraries
 * missing, no GPU) this and every later session run on the CPU, and {@link #fallbackReason()} says why in one line.
 * Sessions are always created from the file path, never from a byte array: that is how ONNX Runtime finds a large
 * UNet's external weights file beside {@code model.onnx}, and it avoids a multi-GB copy on the Java heap.
 */
public final class SessionFactory {

	private final RuntimeOptions options;
	private final Device requested;
	private Device current;
	private String fallbackReason;
	private LongSupplier freeMemory = SystemMemory::available;
	private final Set<String> patchedOnKeptFile = Collections.synchronizedSet(new LinkedHashSet<>());

	/** On {@code device} with the default runtime options. */
	public SessionFactory(String device) {
		this(Device.parse(device));
	}

	/** On {@code device} with the default runtime options. */
	public SessionFactory(Device device) {
		this(RuntimeOptions.DEFAULTS.withDevice(device));
	}

	/** On the options' device, every session created with these options. */
	public SessionFactory(RuntimeOptions options) {
		Device device = options.device();
		this.options = options;
		this.requested = device;
		this.current = device == Device.CPU ? Device.CPU : Device.CUDA;
		if (device == Device.AUTO) {
			OnnxEnvironment.get();
			if (!ExecutionProviders.cudaCompiledIn()) fallBack(ExecutionProviders.cpuOnlyReason());
		}
	}

	/** Opens one ONNX file with the given memory handling. */
	public OrtSession open(Path modelFile, SessionMemory memory) {
		return open(modelFile, memory, Map.of());
	}

	/**
	 * Opens one ONNX file with the given memory handling, {@code initializers} replacing the file's initializers of
	 * the same names (LoRA-patched weights); they must stay open as long as the session.
	 */
	public OrtSession open(Path modelFile, SessionMemory memory, Map<String, ? extends OnnxTensorLike> initializers) {
		OnnxEnvironment.get();
		if (current == Device.CUDA) {
			try {
				if (!ExecutionProviders.cudaCompiledIn()) throw new CudaUnavailable(ExecutionProviders.cpuOnlyReason());
				return create(modelFile, Device.CUDA, memory, initializers);
			}
			catch (OrtException | RuntimeException | LinkageError e) {
				String reason = e instanceof CudaUnavailable ? e.getMessage() : ExecutionProviders.cudaFailureReason(e);
				if (requested == Device.CUDA) {
					throw new StableDiffusionException("Device cuda was requested but CUDA could not start: " + reason
						+ ". Choose device auto or cpu (--device auto) to run on the CPU.", e);
				}
				fallBack(reason);
			}
		}
		try {
			return create(modelFile, Device.CPU, memory, initializers);
		}
		catch (OrtException e) {
			throw new StableDiffusionException("ONNX Runtime cannot load " + modelFile + ": "
				+ OnnxEnvironment.firstLine(String.valueOf(e.getMessage()))
				+ ". The file may be damaged or not an ONNX model; export the model again.", e);
		}
	}

	private OrtSession create(Path file, Device device, SessionMemory memory,
		Map<String, ? extends OnnxTensorLike> initializers) throws OrtException
	{
		String component = component(file);
		OptLevel level = options.optLevel(component);
		if (SessionTuning.keepsOptimizedFile(options, level, device)) {
			// a patched session (LoRA) is never written as an optimised file of its own (its key knows nothing of the
			// patch), but it can open the unpatched one with the patched weights in place of theirs
			OrtSession s = initializers.isEmpty() ? createOptimized(file, device, memory, component, level)
				: createOptimizedPatched(file, device, memory, component, level, initializers);
			if (s != null) return s;
		}
		RuntimeOptions inMemory = options.withOptLevel(component, SessionTuning.levelWithoutOptimizedFile(options,
			component));
		try (SessionOptions sessionOptions = ExecutionProviders.sessionOptions(inMemory, device, memory, component)) {
			replaceInitializers(sessionOptions, initializers);
			// ...but graph optimisation folds a Cast of an initializer (fp16-stored weights) from the file's values,
			// before the replacement is looked at: the replacement would be ignored without a word
			if (!initializers.isEmpty() && castsAny(file, initializers.keySet()))
				sessionOptions.setOptimizationLevel(OptLevel.NO_OPT);
			return OnnxEnvironment.get().createSession(file.toString(), sessionOptions);
		}
	}

	/**
	 * The patched session on the kept optimised file, when every patched weight is still there, unchanged, under its
	 * own name: it maps the unpatched weights from that file as a plain session does, where optimising the original
	 * in memory would hold a second, anonymous copy of them (SD 1.5's text encoder: 2 × its 492 MB at the peak).
	 * Null when it cannot be used (no complete optimised file, a weight renamed or folded by the optimiser): then
	 * the caller optimises the original in memory.
	 */
	private OrtSession createOptimizedPatched(Path file, Device device, SessionMemory memory, String component,
		OptLevel level, Map<String, ? extends OnnxTensorLike> initializers)
	{
		Path entry, done;
		try {
			entry = new OptimizedModelCache(options.optimizedModels()).entry(file, level, device, options
				.ortConfig(), OnnxEnvironment.get().getVersion());
			if (OptimizedModelCache.complete(entry) == null && !ModelOptimizer.inProcess()) ModelOptimizer
				.inSeparateProcess(file, entry, options, memory, component, freeMemory.getAsLong());
			done = OptimizedModelCache.complete(entry);
		}
		catch (IOException | RuntimeException e) {
			return null;
		}
		if (done == null || !replaceableIn(file, done, initializers)) return null;
		try (SessionOptions o = ExecutionProviders.sessionOptions(options.withOptLevel(OptLevel.NO_OPT), device, memory,
			component))
		{
			replaceInitializers(o, initializers);
			OrtSession s = OnnxEnvironment.get().createSession(done.toString(), o);
			OptimizedModelCache.markUsed(entry);
			patchedOnKeptFile.add(component);
			return s;
		}
		catch (OrtException | RuntimeException e) {
			return null;
		}
	}

	/**
	 * Hands the patched weights to the session in place of the file's (inline or external, addInitializer replaces
	 * both). Prepacking is turned off for a patched session: the CPU kernels would pack each patched weight into a
	 * copy of their own while ours, which the session may not outlive, stay allocated (2 × the patched weights);
	 * unpacked, the kernels read our buffers and the file's mapped weights as they are, at a cost in speed measured by
	 * {@code LoraBench}.
	 */
	private static void replaceInitializers(SessionOptions o, Map<String, ? extends OnnxTensorLike> initializers)
		throws OrtException
	{
		if (initializers.isEmpty()) return;
		for (Map.Entry<String, ? extends OnnxTensorLike> e : initializers.entrySet())
			o.addInitializer(e.getKey(), e.getValue());
		o.addConfigEntry("session.disable_prepacking", "1");
	}

	/** The ops that read a weight as a linear map of it: a replacement means the same to them as the original did. */
	private static final Set<String> LINEAR_READERS = Set.of("MatMul", "Gemm", "FusedMatMul",
		"FusedGemm", "Conv", "FusedConv");

	/**
	 * Whether the initializers {@code replacements} can replace their namesakes in the optimised file
	 * {@code optimized} of {@code original}: each is there with the same shape and element type, and is read, in the
	 * original and in the optimised graph, only by ops that multiply by it. Then the optimiser cannot have folded it
	 * into another initializer (a fold needs a node with constant inputs only), and the patched optimised graph
	 * computes what the patched original would. Weights the optimiser re-laid out (NCHWc convolutions) are renamed,
	 * so a LoRA on them answers false.
	 */
	static boolean replaceableIn(Path original, Path optimized, Map<String, ? extends OnnxTensorLike> replacements) {
		OnnxGraph opt = OnnxGraph.read(optimized), orig = OnnxGraph.read(original);
		for (Map.Entry<String, ? extends OnnxTensorLike> e : replacements.entrySet()) {
			OnnxGraph.Initializer there = opt.initializers().get(e.getKey());
			if (there == null || !Arrays.equals(there.dims(), e.getValue().getInfo().getShape()))
				return false;
			OnnxGraph.Initializer before = orig.initializers().get(e.getKey());
			if (before == null || before.dataType() != there.dataType()) return false;
		}
		return onlyLinearReaders(opt, replacements.keySet()) && onlyLinearReaders(orig, replacements.keySet());
	}

	private static boolean onlyLinearReaders(OnnxGraph graph, Set<String> names) {
		return graph.nodes().stream().noneMatch(n -> !LINEAR_READERS.contains(n.opType()) && n.inputs().stream()
			.anyMatch(names::contains));
	}

	/** Whether a Cast node of {@code file}'s graph reads one of the initializers {@code names}. */
	static boolean castsAny(Path file, Set<String> names) {
		return OnnxGraph.read(file).nodes().stream()
			.anyMatch(n -> n.opType().equals("Cast") && !n.inputs().isEmpty() && names.contains(n.inputs().get(0)));
	}

	/** The component a model file belongs to: its folder's name in the diffusers layout ({@code unet/model.onnx}). */
	static String component(Path file) {
		Path parent = file.toAbsolutePath().getParent();
		return parent == null || parent.getFileName() == null ? "" : parent.getFileName().toString();
	}

	/**
	 * The session from the cached optimised file (optimisation off, it is done), the file written first if missing;
	 * null when the cache cannot be used (unwritable folder, disk full, not enough free memory to optimise): then the
	 * caller optimises in memory at the level used without a file. The file is written by a separate process
	 * ({@link ModelOptimizer}), so that this process never holds the optimiser's memory; with
	 * {@code -Dsd.optimize=in-process} here, as before.
	 */
	private OrtSession createOptimized(Path file, Device device, SessionMemory memory, String component, OptLevel level) {
		Path entry;
		try {
			entry = new OptimizedModelCache(options.optimizedModels()).entry(file, level, device, options.ortConfig(),
				OnnxEnvironment.get().getVersion());
		}
		catch (IOException | RuntimeException e) {
			return null;
		}
		if (OptimizedModelCache.complete(entry) != null) {
			OrtSession s = openComplete(entry, device, memory, component);
			if (s != null) {
				OptimizedModelCache.markUsed(entry);
				return s;
			}
			OptimizedModelCache.delete(entry); // damaged or from another build: written again below
		}
		if (!ModelOptimizer.inProcess()) {
			if (!ModelOptimizer.inSeparateProcess(file, entry, options, memory, component, freeMemory.getAsLong())
				.written()) return null;
			return openComplete(entry, device, memory, component);
		}
		try {
			OrtSession s = ModelOptimizer.writeHere(file, options, device, memory, component, entry);
			// The session that optimised holds its weights repacked in anonymous memory (2.2 GB more for an SD-1.5
			// UNet); the written file's session maps them instead, as every later load does.
			OrtSession reopened = openComplete(entry, device, memory, component);
			if (reopened == null) return s;
			if (s != null) s.close();
			return reopened;
		}
		catch (IOException | OrtException | RuntimeException e) {
			return null;
		}
	}

	/** The session of a complete optimised file (optimisation off: it is done), or null when it cannot be opened. */
	private OrtSession openComplete(Path entry, Device device, SessionMemory memory, String component) {
		Path done = OptimizedModelCache.complete(entry);
		if (done == null) return null;
		try (SessionOptions o = ExecutionProviders.sessionOptions(options.withOptLevel(OptLevel.NO_OPT), device, memory,
			component))
		{
			return OnnxEnvironment.get().createSession(done.toString(), o);
		}
		catch (OrtException | RuntimeException e) {
			return null;
		}
	}

	private void fallBack(String reason) {
		current = Device.CPU;
		fallbackReason = reason;
	}

	private static final class CudaUnavailable extends RuntimeException {
		CudaUnavailable(String reason) {
			super(reason);
		}
	}

	/** Where the free memory is read before an optimising process starts (tests give a fixed amount). */
	public void freeMemory(LongSupplier bytes) {
		this.freeMemory = bytes;
	}

	/** The runtime options sessions are created with. */
	public RuntimeOptions options() { return options; }

	/** Whether a session asking for this memory handling gets the CPU arena. */
	public boolean cpuArena(SessionMemory memory) { return options.cpuArena(memory); }

	/** The device asked for. */
	public Device requested() { return requested; }

	/** Where sessions are created now: CUDA or CPU. */
	public Device provider() { return current; }

	/** The components whose patched (LoRA) sessions opened the kept optimised file, in the order opened. */
	public Set<String> patchedOnKeptFile() {
		synchronized (patchedOnKeptFile) {
			return Collections.unmodifiableSet(new LinkedHashSet<>(patchedOnKeptFile));
		}
	}

	/** Why {@code auto} is not on CUDA, or null. */
	public String fallbackReason() { return fallbackReason; }
}
