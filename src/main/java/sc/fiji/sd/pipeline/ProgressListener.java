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

	ProgressListener NONE = progress -> {};
}
