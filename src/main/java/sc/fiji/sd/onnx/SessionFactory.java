package sc.fiji.sd.onnx;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
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
		// a patched session (LoRA) is never kept as an optimised file: the file's key knows nothing of the patch
		if (initializers.isEmpty() && SessionTuning.keepsOptimizedFile(options, level, device)) {
			OrtSession s = createOptimized(file, device, memory, component, level);
			if (s != null) return s;
		}
		RuntimeOptions inMemory = options.withOptLevel(component, SessionTuning.levelWithoutOptimizedFile(options,
			component));
		try (SessionOptions sessionOptions = ExecutionProviders.sessionOptions(inMemory, device, memory, component)) {
			// addInitializer replaces an initializer whether its bytes are inline or in an external data file
			for (Map.Entry<String, ? extends OnnxTensorLike> e : initializers.entrySet())
				sessionOptions.addInitializer(e.getKey(), e.getValue());
			// ...but graph optimisation folds a Cast of an initializer (fp16-stored weights) from the file's values,
			// before the replacement is looked at: the replacement would be ignored without a word
			if (!initializers.isEmpty() && castsAny(file, initializers.keySet()))
				sessionOptions.setOptimizationLevel(OptLevel.NO_OPT);
			return OnnxEnvironment.get().createSession(file.toString(), sessionOptions);
		}
	}

	/** Whether a Cast node of {@code file}'s graph reads one of the initializers {@code names}. */
	static boolean castsAny(Path file, java.util.Set<String> names) {
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

	/** Why {@code auto} is not on CUDA, or null. */
	public String fallbackReason() { return fallbackReason; }
}
