package sc.fiji.sd.onnx;

import java.util.Map;
import java.util.Set;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import sc.fiji.sd.onnx.ExecutionProviders.Device;

/**
 * Which ONNX Runtime settings each component gets, as measured with {@code bench --compare-configs}
 * (PERFORMANCE.md): the choice logic, kept apart from the session plumbing so that it can be tested without timing
 * anything.
 */
public final class SessionTuning {

	private SessionTuning() {}

	/**
	 * Graph optimisation per component, by default: ALL for the VAE decoder and encoder, the text encoders and the
	 * UNet. ALL gives the CPU's blocked NCHWc convolution layouts and fusions: on a quiet machine at 512×512 a UNet
	 * call took 3.42 s at ALL against 4.12 s at BASIC, the text encoder 62 against 76 ms, and the VAE decodes ~20 %
	 * faster (PERFORMANCE.md). ALL is expensive to do on every load for large graphs (an SD-1.5 UNet: 55 s, and its
	 * weights repacked into 2.2 GB of anonymous memory), so apart from the VAE's (small weights) these levels hold only
	 * through an optimised-model file ({@link #levelWithoutOptimizedFile}). {@code controlnet} is the base model's UNet
	 * that takes ControlNet residuals ({@code controlnet/model.onnx}): the same UNet, the same level.
	 */
	public static final Map<String, OptLevel> DEFAULT_OPT_LEVELS = Map.of("vae_decoder", OptLevel.ALL_OPT,
		"vae_encoder", OptLevel.ALL_OPT, "unet", OptLevel.ALL_OPT, "controlnet", OptLevel.ALL_OPT, "text_encoder",
		OptLevel.ALL_OPT, "text_encoder_2", OptLevel.ALL_OPT);

	/** The components whose default level is worth optimising in memory when no optimised file can be kept. */
	private static final Set<String> SMALL_COMPONENTS = Set.of("vae_decoder", "vae_encoder");

	/**
	 * The level of a session that cannot go through an optimised-model file (no cache folder, an unwritable one, the
	 * GPU, LoRA-patched weights): the level asked for, except that under the default levels the UNet and the text
	 * encoders drop to BASIC, whose optimisations cost nothing at load. A level set explicitly (bench
	 * {@code --opt-level}, {@code sd.optLevel}) is kept.
	 */
	public static OptLevel levelWithoutOptimizedFile(RuntimeOptions options, String component) {
		OptLevel level = options.optLevel(component);
		boolean defaults = options.optLevel() == OptLevel.BASIC_OPT && options.componentOptLevels().equals(
			DEFAULT_OPT_LEVELS);
		return defaults && !SMALL_COMPONENTS.contains(component) && rank(level) > rank(OptLevel.BASIC_OPT)
			? OptLevel.BASIC_OPT : level;
	}

	/**
	 * Whether a session at {@code level} on {@code device} is created through an optimised-model file: with a cache
	 * folder, on the CPU (the file holds CPU layouts), and only above BASIC, whose optimisations cost nothing to redo
	 * (measured: loading a BASIC-optimised UNet file took as long as the original).
	 */
	public static boolean keepsOptimizedFile(RuntimeOptions options, OptLevel level, Device device) {
		return options.optimizedModels() != null && device == Device.CPU && rank(level) > rank(OptLevel.BASIC_OPT);
	}

	/** NO_OPT 0, BASIC 1, EXTENDED 2, ALL 3 (the enum's own order is ONNX Runtime's, not guaranteed). */
	static int rank(OptLevel level) {
		switch (level) {
			case NO_OPT: return 0;
			case BASIC_OPT: return 1;
			case EXTENDED_OPT: return 2;
			default: return 3;
		}
	}

	/**
	 * Whether classifier-free guidance can run as one batch-2 UNet call: its estimated peak ({@code batchedBytes},
	 * {@code MemoryEstimate}) is within the memory goal (1.5 × the weights + 1 GB) and within the memory the system
	 * has free now. Above 384 × 384 the batch-2 call is the faster one only by some per cent, so it is not worth
	 * swapping or going over the goal.
	 */
	public static boolean batchedCfgFits(long batchedBytes, long weightBytes, long availableBytes) {
		return batchedBytes <= Math.min(memoryGoal(weightBytes), availableBytes);
	}

	/** The memory goal of a generation: peak resident memory ≤ 1.5 × the model's weights + 1 GB. */
	public static long memoryGoal(long weightBytes) {
		return (long) (1.5 * weightBytes) + (1L << 30);
	}
}
