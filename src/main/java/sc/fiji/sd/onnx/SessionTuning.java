package sc.fiji.sd.onnx;

import java.util.Map;

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
	 * Graph optimisation per component, by default: the VAE decoder and encoder at ALL (small weights, 50–200 MB, and
	 * large convolutions, which ALL turns into the CPU's blocked NCHWc layout), the text encoder and the UNet at the
	 * base level, BASIC: the UNet's call gains little from ALL while ALL repacks its weights into anonymous memory and
	 * took 34 s to create.
	 */
	public static final Map<String, OptLevel> DEFAULT_OPT_LEVELS = Map.of("vae_decoder", OptLevel.ALL_OPT,
		"vae_encoder", OptLevel.ALL_OPT);

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
