package sc.fiji.sd.pipeline;

/**
 * Receives progress from a running generation and can ask it to stop.
 * <p>
 * This is the only way the core talks back to a front end. Calls arrive on the generating thread.
 */
public interface ProgressListener {

	/** Called after each finished denoising step. */
	void stepFinished(StepProgress progress);

	/** Polled between steps; returning true interrupts the run, which then returns the last finished step's image. */
	default boolean isCanceled() {
		return false;
	}

	/** A short status line (loading models, encoding the prompt, decoding…). */
	default void status(String message) {}

	ProgressListener NONE = progress -> {};
}
