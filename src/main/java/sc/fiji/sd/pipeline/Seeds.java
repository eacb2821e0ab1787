package sc.fiji.sd.pipeline;

import java.security.SecureRandom;

/**
 * The one place a random seed is drawn, for the pipeline and every front end: a front end that records the seed it
 * used (an ImageJ 1.x dialog field, a Fiji command's {@code seed} input) draws it here before recording it, so the
 * recorded line replays to the same pixels.
 */
public final class Seeds {

	private static final SecureRandom RANDOM = new SecureRandom();

	private Seeds() {}

	/** A fresh random seed in AUTOMATIC1111's range, 0 … 2³² − 1 (fits every front end's integer field). */
	public static long draw() {
		return RANDOM.nextInt() & 0xffffffffL;
	}

	/**
	 * The seed to use for {@code seed}: a drawn one for {@link GenerationRequest#RANDOM_SEED} (−1), otherwise the
	 * seed itself (other negative seeds are refused by {@link GenerationRequest#validate}).
	 */
	public static long resolve(long seed) {
		return seed == GenerationRequest.RANDOM_SEED ? draw() : seed;
	}
}
