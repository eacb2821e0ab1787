package sc.fiji.sd.pipeline;

import java.util.Locale;

import sc.fiji.sd.StableDiffusionException;

/**
 * How classifier-free guidance evaluates the UNet each step: the unconditional and the conditional half in one
 * batch-2 call ({@link #BATCHED}), or as two batch-1 calls ({@link #SEPARATE}). Both give the same prediction; they
 * differ in speed and in peak memory (a batch-2 call holds twice the activations, notably the attention matrices).
 * {@link #AUTO} picks by the measured rule in {@link #resolve}. The system property {@code sd.cfg}
 * ({@code auto}, {@code batched}, {@code separate}) sets the default.
 */
public enum CfgMode {
	AUTO, BATCHED, SEPARATE;

	/** {@code sd.cfg}, or AUTO. */
	public static CfgMode fromProperty() {
		return parse(System.getProperty("sd.cfg", "auto"));
	}

	public static CfgMode parse(String name) {
		try {
			return valueOf(name.trim().toUpperCase(Locale.ROOT));
		}
		catch (IllegalArgumentException e) {
			throw new StableDiffusionException("Unknown CFG mode '" + name + "': use auto, batched or separate.");
		}
	}

	/**
	 * The mode to run: this one, or for AUTO the rule measured with {@code bench} (PERFORMANCE.md): batched.
	 *
	 * @param provider "CPU" or "CUDA"
	 */
	public CfgMode resolve(String provider) {
		if (this != AUTO) return this;
		return BATCHED;
	}
}
