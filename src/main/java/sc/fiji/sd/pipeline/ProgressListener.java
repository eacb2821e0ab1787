package sc.fiji.sd.pipeline;

/**
 * Receives progress from a running generation and can ask it to stop.
 * <p>
 * This is the only way the core talks back to a front end. Calls arrive on the generating thread, except
 * {@link #isCanceled()}, which is also polled from a watcher thread.
 */
public interface ProgressListener {

	/** Called after each finished denoising step. */
	void stepFinished(StepProgress progress);

	/**
	 * Polled between steps, and about every 50 ms from another thread while a UNet call runs (so it must be
	 * thread-safe and cheap); returning true interrupts the run, stopping a call in flight, and the run returns the
	 * last finished step's image.
	 */
	default boolean isCanceled() {
		return false;
	}

	/** A short status line (loading models, encoding the prompt, decoding…). */
	default void status(String message) {}

	/**
	 * Whether to decode this step's image for a live preview, asked only when the run has a tiny decoder (which makes
	 * a preview at full size cheap); then {@link #preview} comes before {@link #stepFinished} for that step.
	 */
	default boolean wantsPreview(StepProgress progress) {
		return false;
	}

	/** The step's first image, decoded by the tiny decoder from the predicted denoised latents: X × Y × 3 in [0, 1]. */
	default void preview(StepProgress progress, net.imglib2.img.Img<net.imglib2.type.numeric.real.FloatType> rgb) {}

	ProgressListener NONE = progress -> {};
}
