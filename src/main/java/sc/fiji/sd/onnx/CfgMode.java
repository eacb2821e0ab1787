package sc.fiji.sd.onnx;

import java.util.Locale;

import sc.fiji.sd.StableDiffusionException;

/**
 * How classifier-free guidance evaluates the UNet each step: the unconditional and the conditional half in one
 * batch-2 call ({@link #BATCHED}), or as two batch-1 calls ({@link #SEPARATE}). Both give the same prediction; they
 * differ in speed and in peak memory (a batch-2 call holds twice the activations, notably the attention matrices).
 * {@link #AUTO} picks by the measured rule in {@link #resolve}. A runtime option ({@link RuntimeOptions#cfg()}; the
 * system property {@code sd.cfg}: {@code auto}, {@code batched}, {@code separate}), since the rule depends on the
 * execution provider.
 */
public enum CfgMode {
	AUTO, BATCHED, SEPARATE;

	public static CfgMode parse(String name) {
		try {
			return valueOf(name.trim().toUpperCase(Locale.ROOT));
		}
		catch (IllegalArgumentException e) {
			throw new StableDiffusionException("Unknown CFG mode '" + name + "': use auto, batched or separate.");
		}
	}

	/**
	 * Latent positions (h × w) up to which AUTO batches on the CPU: 48 × 48, i.e. 384 × 384 pixels. Measured on an
	 * SD-1.5-size UNet on a quiet 2-core machine, with the UNet's arena kept between steps (PERFORMANCE.md): one
	 * batch-2 call is 6 % faster than two batch-1 calls at 256 × 256 and 7 % at 384 × 384. At 512 × 512 whole
	 * generations come out alike (51.5 s batched vs 50.6 s separate; batched steps 3 % faster, but its first step,
	 * which regrows the arena, slower), while batch-2 holds 1.1 GB more (peak 6.8 GB vs 5.7 GB): the batch-2
	 * attention scores grow with the square of the positions (2 × 8 heads × 4096² floats = 1 GB at 512 × 512,
	 * 5.4 GB at 768 × 768). So above this size the halves run one after the other unless the batch-2 peak is
	 * estimated to fit the memory goal and the free memory ({@link #resolve(String, int, boolean)}).
	 */
	public static final int CPU_BATCHED_MAX_POSITIONS = 48 * 48;

	/**
	 * The mode to run: this one, or for AUTO the measured rule: on CUDA batched (a GPU is under-used by batch 1); on
	 * the CPU batched up to {@link #CPU_BATCHED_MAX_POSITIONS} latent positions, separate above.
	 *
	 * @param provider "CPU" or "CUDA"
	 * @param latentPositions latent height × width
	 */
	public CfgMode resolve(String provider, int latentPositions) {
		return resolve(provider, latentPositions, false);
	}

	/**
	 * As {@link #resolve(String, int)}, and on the CPU also batched above {@link #CPU_BATCHED_MAX_POSITIONS} when
	 * {@code batchedFits}: the estimated peak of batch-2 calls is within the memory budget
	 * ({@link SessionTuning#batchedCfgFits}). A batch-2 call is 6–8 % faster per step than two batch-1 calls at
	 * 512 × 512 (sd4j's setting), at 1.1 GB more.
	 */
	public CfgMode resolve(String provider, int latentPositions, boolean batchedFits) {
		if (this != AUTO) return this;
		if ("CUDA".equalsIgnoreCase(provider)) return BATCHED;
		return latentPositions <= CPU_BATCHED_MAX_POSITIONS || batchedFits ? BATCHED : SEPARATE;
	}
}
