package sc.fiji.sd.onnx;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.ExecutionProviders.SessionMemory;

/**
 * How models run, chosen once at the edge (CLI, Fiji settings, benchmark) and passed in: where the sessions live and
 * how ONNX Runtime and the pipeline use them. Immutable; {@link #DEFAULTS} are the measured defaults
 * (PERFORMANCE.md), {@link #fromSystemProperties()} reads the {@code sd.*} properties meant for measuring.
 *
 * @param threads intra-op threads per session; 0 (or less) = all available processors
 * @param device auto, cpu or cuda
 * @param cfg how classifier-free guidance calls the UNet
 * @param cpuArena which sessions get ONNX Runtime's CPU arena
 * @param memoryPattern ONNX Runtime's memory pattern for every session, or null: on exactly where there is no arena
 * @param optLevel graph optimisation level
 * @param ortConfig extra session config entries (key → value), e.g. {@code session.disable_prepacking=1}
 * @param cudaConvAlgoSearch cuDNN's convolution algorithm search (HEURISTIC, EXHAUSTIVE, DEFAULT)
 * @param componentOptLevels graph optimisation level per component ({@code vae_decoder} → ALL…), overriding
 *        {@code optLevel} for that component
 * @param optimizedModels where sessions above BASIC keep their optimised model files
 *        ({@link OptimizedModelCache}), or null: optimise on every load
 */
public record RuntimeOptions(int threads, Device device, CfgMode cfg, ArenaUse cpuArena, Boolean memoryPattern,
	OptLevel optLevel, Map<String, String> ortConfig, String cudaConvAlgoSearch, VaeTiling vaeTiling,
	Map<String, OptLevel> componentOptLevels, Path optimizedModels)
{

	/** Which sessions get ONNX Runtime's CPU arena. */
	public enum ArenaUse {
		/** Those that ask for one ({@link SessionMemory#ARENA}: the UNet and the VAE). */
		AUTO,
		/** Every session. */
		ALL,
		/** No session. */
		NONE;

		/** "auto", "all"/"true", "none"/"false" (any case); anything else means auto. */
		public static ArenaUse parse(String name) {
			switch (name.trim().toLowerCase(Locale.ROOT)) {
				case "all": case "true": return ALL;
				case "none": case "false": return NONE;
				default: return AUTO;
			}
		}
	}

	/**
	 * All processors, device auto, CFG auto, arenas where asked for, memory pattern where there is no arena, graph
	 * optimisation per component ({@link SessionTuning#DEFAULT_OPT_LEVELS}: ALL, BASIC where no file can be kept) with the
	 * optimised files kept in the user's cache folder, no extra entries, cuDNN heuristic search (ExecutionProviders
	 * says why each).
	 */
	public static final RuntimeOptions DEFAULTS = new RuntimeOptions(0, Device.AUTO, CfgMode.AUTO, ArenaUse.AUTO, null,
		OptLevel.BASIC_OPT, Map.of(), "HEURISTIC", VaeTiling.DEFAULT, SessionTuning.DEFAULT_OPT_LEVELS,
		OptimizedModelCache.userFolder());

	public RuntimeOptions {
		threads = Math.max(0, threads);
		if (device == null || cfg == null || cpuArena == null || optLevel == null || cudaConvAlgoSearch == null
			|| vaeTiling == null || componentOptLevels == null)
			throw new NullPointerException("only memoryPattern and optimizedModels may be null");
		ortConfig = Map.copyOf(ortConfig);
		componentOptLevels = Map.copyOf(componentOptLevels);
	}

	/** One level for every component, no optimised-model files (the options as they were before per-component levels). */
	public RuntimeOptions(int threads, Device device, CfgMode cfg, ArenaUse cpuArena, Boolean memoryPattern,
		OptLevel optLevel, Map<String, String> ortConfig, String cudaConvAlgoSearch, VaeTiling vaeTiling)
	{
		this(threads, device, cfg, cpuArena, memoryPattern, optLevel, ortConfig, cudaConvAlgoSearch, vaeTiling, Map.of(),
			null);
	}

	/**
	 * The defaults with the measuring properties applied: {@code sd.cfg}, {@code sd.cpuArena}, {@code sd.memPattern},
	 * {@code sd.optLevel}, {@code sd.ort.config} ({@code key=value,key=value}) and {@code sd.cuda.convAlgoSearch}. The
	 * one place that reads them; front ends call it once per run.
	 */
	public static RuntimeOptions fromSystemProperties() {
		String memPattern = System.getProperty("sd.memPattern");
		String level = System.getProperty("sd.optLevel");
		String optimized = System.getProperty("sd.optimizedModels");
		return new RuntimeOptions(DEFAULTS.threads, DEFAULTS.device, CfgMode.parse(System.getProperty("sd.cfg",
			"auto")), ArenaUse.parse(System.getProperty("sd.cpuArena", "auto")), memPattern == null ? null : Boolean
				.parseBoolean(memPattern), level == null ? DEFAULTS.optLevel : ExecutionProviders.parseOptLevel(level),
			parseConfigEntries(System.getProperty("sd.ort.config", "")), System.getProperty("sd.cuda.convAlgoSearch",
				DEFAULTS.cudaConvAlgoSearch), VaeTiling.parse(System.getProperty("sd.vaeTiling"), Integer.getInteger(
					"sd.vaeTile"), Integer.getInteger("sd.vaeTileOverlap"), Integer.getInteger("sd.vaeTileAbove")),
			level == null ? DEFAULTS.componentOptLevels : Map.of(), optimized == null ? DEFAULTS.optimizedModels
				: optimized.isBlank() || optimized.equalsIgnoreCase("off") ? null : Path.of(optimized));
	}

	/** {@code key=value,key=value} → entries in order; parts without a key are skipped. */
	static Map<String, String> parseConfigEntries(String entries) {
		Map<String, String> map = new LinkedHashMap<>();
		for (String entry : entries.split(",")) {
			int eq = entry.indexOf('=');
			if (eq > 0) map.put(entry.substring(0, eq).trim(), entry.substring(eq + 1).trim());
		}
		return map;
	}

	public RuntimeOptions withThreads(int n) {
		return new RuntimeOptions(n, device, cfg, cpuArena, memoryPattern, optLevel, ortConfig, cudaConvAlgoSearch,
			vaeTiling, componentOptLevels, optimizedModels);
	}

	public RuntimeOptions withDevice(Device d) {
		return new RuntimeOptions(threads, d, cfg, cpuArena, memoryPattern, optLevel, ortConfig, cudaConvAlgoSearch,
			vaeTiling, componentOptLevels, optimizedModels);
	}

	public RuntimeOptions withCfg(CfgMode mode) {
		return new RuntimeOptions(threads, device, mode, cpuArena, memoryPattern, optLevel, ortConfig, cudaConvAlgoSearch,
			vaeTiling, componentOptLevels, optimizedModels);
	}

	public RuntimeOptions withCpuArena(ArenaUse use) {
		return new RuntimeOptions(threads, device, cfg, use, memoryPattern, optLevel, ortConfig, cudaConvAlgoSearch,
			vaeTiling, componentOptLevels, optimizedModels);
	}

	/** With the memory pattern on or off for every session, or null: on exactly where there is no arena. */
	public RuntimeOptions withMemoryPattern(Boolean on) {
		return new RuntimeOptions(threads, device, cfg, cpuArena, on, optLevel, ortConfig, cudaConvAlgoSearch, vaeTiling,
			componentOptLevels, optimizedModels);
	}

	/** One graph optimisation level for every component (the per-component levels are dropped). */
	public RuntimeOptions withOptLevel(OptLevel level) {
		return new RuntimeOptions(threads, device, cfg, cpuArena, memoryPattern, level, ortConfig, cudaConvAlgoSearch,
			vaeTiling, Map.of(), optimizedModels);
	}

	/** The level of one component ({@code unet}, {@code vae_decoder}…), the others unchanged. */
	public RuntimeOptions withOptLevel(String component, OptLevel level) {
		Map<String, OptLevel> levels = new LinkedHashMap<>(componentOptLevels);
		levels.put(component, level);
		return new RuntimeOptions(threads, device, cfg, cpuArena, memoryPattern, optLevel, ortConfig, cudaConvAlgoSearch,
			vaeTiling, levels, optimizedModels);
	}

	/** Optimised-model files kept in {@code folder}, or with null not kept. */
	public RuntimeOptions withOptimizedModels(Path folder) {
		return new RuntimeOptions(threads, device, cfg, cpuArena, memoryPattern, optLevel, ortConfig, cudaConvAlgoSearch,
			vaeTiling, componentOptLevels, folder);
	}

	public RuntimeOptions withVaeTiling(VaeTiling tiling) {
		return new RuntimeOptions(threads, device, cfg, cpuArena, memoryPattern, optLevel, ortConfig, cudaConvAlgoSearch,
			tiling, componentOptLevels, optimizedModels);
	}

	/** The graph optimisation level of a component (its folder name: {@code unet}, {@code vae_decoder}…). */
	public OptLevel optLevel(String component) {
		return componentOptLevels.getOrDefault(component, optLevel);
	}

	/** Whether a session asking for this memory handling gets the CPU arena. */
	public boolean cpuArena(SessionMemory memory) {
		switch (cpuArena) {
			case ALL: return true;
			case NONE: return false;
			default: return memory == SessionMemory.ARENA;
		}
	}

	/** Whether a session with or without the arena uses ONNX Runtime's memory pattern. */
	public boolean memoryPattern(boolean arena) {
		return memoryPattern != null ? memoryPattern : !arena;
	}

	/** Intra-op threads to set: {@link #threads()}, or all available processors for 0. */
	public int intraOpThreads() {
		return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
	}
}
