package sc.fiji.sd.onnx;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession.RunOptions;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.OrtSession.SessionOptions.ExecutionMode;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import ai.onnxruntime.providers.OrtCUDAProviderOptions;
import sc.fiji.sd.StableDiffusionException;

/**
 * Where the models run: {@code auto} (CUDA when it starts, else CPU), {@code cpu} or {@code cuda}, and the session
 * options for each, set deliberately.
 * <p>
 * The default build carries ONNX Runtime's CPU library; {@code mvn -Pcuda package} swaps in the GPU build, which needs
 * CUDA 12 and cuDNN 9 on the machine. {@code auto} falls back to the CPU with a one-line reason; an explicit
 * {@code cuda} that cannot start is an error.
 */
public final class ExecutionProviders {

	/** The device names users type. */
	public enum Device {
		AUTO, CPU, CUDA;

		/** Parses "auto", "cpu" or "cuda" (any case; null or empty = auto). */
		public static Device parse(String name) {
			if (name == null || name.isBlank()) return AUTO;
			try {
				return valueOf(name.trim().toUpperCase(Locale.ROOT));
			}
			catch (IllegalArgumentException e) {
				throw new StableDiffusionException("Unknown device '" + name + "': use auto, cpu or cuda.");
			}
		}

		public String label() {
			return name().toLowerCase(Locale.ROOT);
		}
	}

	/** The CUDA device used (the first GPU). */
	static final int CUDA_DEVICE_ID = 0;

	private ExecutionProviders() {}

	/** True when the loaded ONNX Runtime build contains the CUDA provider (the GPU jar). */
	public static boolean cudaCompiledIn() {
		return OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA);
	}

	/**
	 * Human-readable summary: ONNX Runtime version, providers compiled in, and whether CUDA is used and why not.
	 * Tries to start CUDA once (cached), so the answer is what {@code auto} would do.
	 */
	public static String describe() {
		try {
			OrtEnvironment env = OnnxEnvironment.get();
			EnumSet<OrtProvider> available = OrtEnvironment.getAvailableProviders();
			String reason = cudaProbe();
			return "ONNX Runtime " + env.getVersion() + ", providers in this build: " + available
				+ "\nCUDA: " + (reason == null ? "available, used by device auto (GPU " + CUDA_DEVICE_ID + ")"
					: "not used (" + reason + "); device auto runs on the CPU with "
						+ Runtime.getRuntime().availableProcessors() + " threads");
		}
		catch (StableDiffusionException e) {
			return "ONNX Runtime unavailable: " + e.getMessage();
		}
	}

	private static String cudaProbeResult;
	private static boolean cudaProbed;

	/** Null when CUDA options can be created here, else the one-line reason. Cached. */
	static synchronized String cudaProbe() {
		if (!cudaProbed) {
			cudaProbed = true;
			if (!cudaCompiledIn()) cudaProbeResult = cpuOnlyReason();
			else {
				try (SessionOptions o = sessionOptions(RuntimeOptions.DEFAULTS, Device.CUDA, SessionMemory.ARENA)) {
					cudaProbeResult = null;
				}
				catch (OrtException | RuntimeException | LinkageError e) {
					cudaProbeResult = cudaFailureReason(e);
				}
			}
		}
		return cudaProbeResult;
	}

	static String cpuOnlyReason() {
		return "this is the CPU-only build of ONNX Runtime; build with mvn -Pcuda package for the GPU build";
	}

	/**
	 * How a session holds its working memory. {@link #ARENA}: ONNX Runtime's CPU arena, reused from call to call until
	 * a call made with {@link #releaseArenaOptions} empties it; for sessions whose outputs the caller pins (allocates
	 * itself), since an arena region holding a live output cannot be released. {@link #NO_ARENA}: every call takes its
	 * memory from the system and gives it back; for sessions that allocate their own outputs.
	 */
	public enum SessionMemory { ARENA, NO_ARENA }

	/**
	 * Session options for the given device (CPU or CUDA; not AUTO; the options' device is what was asked for) and
	 * memory handling, from the runtime options.
	 * <ul>
	 * <li>Intra-op threads = available processors (unless the options set a number): one UNet call is one big parallel job. Inter-op threads = 1 and
	 * sequential execution: SD graphs are chains, parallel branches gain nothing and would oversubscribe cores.</li>
	 * <li>Graph optimisation per component ({@link SessionTuning#DEFAULT_OPT_LEVELS}): ALL, through an
	 * optimised-model file kept in the cache ({@link OptimizedModelCache}), so that only the first load pays for it
	 * (on an SD-1.5-size UNet ALL takes 34–55 s to create the session, BASIC 2.6 s, the cached file 2.4 s for the whole
	 * model); without a file the UNet and text encoder run at BASIC (PERFORMANCE.md).</li>
	 * <li>Memory, measured on an SD-1.5-size model (PERFORMANCE.md). {@link SessionMemory#ARENA} (the UNet, the VAE
	 * decoder and encoder): arena on and memory pattern off. The UNet reuses one step's memory in the next; without
	 * the arena each call maps fresh pages from the kernel, and a step at 256×256 took 26 % longer (9.7 million page
	 * faults in one 512×512 generation). The pipeline empties the UNet's arena after a batch's last step and the VAE's
	 * after each call. Arena and memory pattern together add the planned block on top of the first run's chunks
	 * (7.9 GB after two calls at 512×512), hence the pattern off. {@link SessionMemory#NO_ARENA} (the text encoder):
	 * arena off, memory pattern on. Runtime options for measuring ({@link RuntimeOptions}; system properties
	 * {@code sd.cpuArena} = {@code auto} (this default), {@code all} or {@code none}; {@code sd.memPattern} =
	 * {@code true} or {@code false} for every session).</li>
	 * </ul>
	 */
	public static SessionOptions sessionOptions(RuntimeOptions options, Device device, SessionMemory memory)
		throws OrtException
	{
		return sessionOptions(options, device, memory, null);
	}

	/**
	 * As {@link #sessionOptions(RuntimeOptions, Device, SessionMemory)}, at the graph optimisation level of
	 * {@code component} ({@link RuntimeOptions#optLevel(String)}; null: the base level).
	 */
	public static SessionOptions sessionOptions(RuntimeOptions options, Device device, SessionMemory memory,
		String component) throws OrtException
	{
		OnnxEnvironment.get();
		SessionOptions o = new SessionOptions();
		try {
			o.setIntraOpNumThreads(options.intraOpThreads());
			o.setInterOpNumThreads(1);
			o.setExecutionMode(ExecutionMode.SEQUENTIAL);
			o.setOptimizationLevel(component == null ? options.optLevel() : options.optLevel(component));
			boolean arena = options.cpuArena(memory);
			o.setCPUArenaAllocator(arena);
			o.setMemoryPatternOptimization(options.memoryPattern(arena));
			for (Map.Entry<String, String> entry : options.ortConfig().entrySet())
				o.addConfigEntry(entry.getKey(), entry.getValue());
			if (device == Device.CUDA) {
				try (OrtCUDAProviderOptions cuda = cudaOptions(options)) { // copied into the session options natively
					o.addCUDA(cuda);
				}
			}
			return o;
		}
		catch (OrtException | RuntimeException | LinkageError e) {
			o.close();
			throw e;
		}
	}

	/**
	 * Run options that hand the free part of a session's CPU arena back to the system when the run ends
	 * ({@code memory.enable_memory_arena_shrinkage}); only for sessions created with the arena on, where ONNX Runtime
	 * otherwise keeps it for the life of the session. Close them.
	 */
	public static RunOptions releaseArenaOptions() throws OrtException {
		RunOptions r = new RunOptions();
		try {
			r.addRunConfigEntry("memory.enable_memory_arena_shrinkage", "cpu:0");
			return r;
		}
		catch (OrtException | RuntimeException e) {
			r.close();
			throw e;
		}
	}

	/** "basic", "BASIC_OPT", "all", "extended", "none"/"no_opt" (any case) → the ONNX Runtime level. */
	public static OptLevel parseOptLevel(String name) {
		String n = name.trim().toUpperCase(Locale.ROOT);
		if (n.endsWith("_OPT")) n = n.substring(0, n.length() - 4);
		switch (n) {
			case "NO": case "NONE": case "DISABLE_ALL": return OptLevel.NO_OPT;
			case "BASIC": return OptLevel.BASIC_OPT;
			case "EXTENDED": return OptLevel.EXTENDED_OPT;
			case "ALL": return OptLevel.ALL_OPT;
			default: throw new StableDiffusionException("Unknown graph optimisation level '" + name
				+ "': use none, basic, extended or all.");
		}
	}

	/**
	 * CUDA provider options.
	 * <ul>
	 * <li>cudnn_conv_algo_search HEURISTIC: EXHAUSTIVE benchmarks every convolution algorithm on the first run of each
	 * input shape (seconds per new image size, plus workspace memory); users change sizes often, and cuDNN's heuristic
	 * pick is close for SD's 3×3 convolutions. Override with {@link RuntimeOptions#cudaConvAlgoSearch()}
	 * (-Dsd.cuda.convAlgoSearch=EXHAUSTIVE) for fixed-size batch work.</li>
	 * <li>do_copy_in_default_stream 1: copies and kernels on one stream, so inputs refilled between runs are never raced.</li>
	 * <li>arena_extend_strategy kSameAsRequested: grow the GPU arena by what is asked, not to the next power of two —
	 * an SD UNet's activations otherwise reserve up to twice their size, which breaks 6–8 GB cards.</li>
	 * <li>cudnn_conv_use_max_workspace 1: lets cuDNN choose the fast fp16 convolution kernels that need workspace.</li>
	 * </ul>
	 */
	static OrtCUDAProviderOptions cudaOptions(RuntimeOptions options) throws OrtException {
		OrtCUDAProviderOptions cuda = new OrtCUDAProviderOptions(CUDA_DEVICE_ID);
		cuda.add("cudnn_conv_algo_search", options.cudaConvAlgoSearch());
		cuda.add("do_copy_in_default_stream", "1");
		cuda.add("arena_extend_strategy", "kSameAsRequested");
		cuda.add("cudnn_conv_use_max_workspace", "1");
		return cuda;
	}

	/** One line saying why CUDA could not start, from the provider's error. */
	static String cudaFailureReason(Throwable e) {
		String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
		String lower = msg.toLowerCase(Locale.ROOT);
		if (lower.contains("libcudnn") || lower.contains("cudnn64")) {
			return "cuDNN 9 libraries are missing (install cuDNN 9 for CUDA 12 and put it on the library path)";
		}
		if (lower.contains("libcublas") || lower.contains("libcudart") || lower.contains("libcufft")
			|| lower.contains("cublas64") || lower.contains("cudart64") || lower.contains("libcurand")) {
			return "CUDA 12 libraries are missing (install the CUDA 12 runtime and put it on the library path)";
		}
		if (lower.contains("no cuda-capable device") || lower.contains("cuda driver version is insufficient")) {
			return "no usable NVIDIA GPU or driver (" + OnnxEnvironment.firstLine(msg) + ")";
		}
		if (lower.contains("failed to find cuda shared provider") || lower.contains("providers_cuda")
			&& lower.contains("not found")) {
			return cpuOnlyReason();
		}
		return "CUDA provider error: " + OnnxEnvironment.firstLine(msg);
	}
}
