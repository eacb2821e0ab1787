package sc.fiji.sd.onnx;

import java.util.HashSet;
import java.util.Set;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession.RunOptions;

/**
 * Cancels ONNX Runtime calls while they run: {@link #cancel} sets the terminate flag of the run options of every call
 * in flight, and of every call that starts afterwards, so a UNet call of seconds ends within milliseconds instead of
 * at the end of its step.
 * <p>
 * Thread-safe: {@link #cancel} is meant to come from another thread than the calls. The run options stay owned by
 * the caller, who registers them for the duration of one call ({@link #register}, {@link #unregister}) and closes
 * them afterwards; registration and termination hold one lock, so a closed options object is never touched.
 */
public final class Cancellation {

	/** What a call that was terminated by {@link #cancel} throws (instead of ONNX Runtime's exception). */
	public static final class CancelledException extends RuntimeException {
		private static final long serialVersionUID = 1L;

		public CancelledException(Throwable cause) {
			super("Cancelled", cause);
		}
	}

	private final Set<RunOptions> running = new HashSet<>();
	private boolean cancelled;
	private int terminated;

	/** Cancels: terminates the calls in flight and every call registered from now on. Idempotent. */
	public synchronized void cancel() {
		if (cancelled) return;
		cancelled = true;
		running.forEach(this::terminate);
	}

	public synchronized boolean isCancelled() {
		return cancelled;
	}

	/** How many calls had their terminate flag set (in flight, or registered after the cancel). */
	public synchronized int terminatedCalls() {
		return terminated;
	}

	/** Registers the options of a call about to run; if already cancelled, the call will stop at once. */
	public synchronized void register(RunOptions options) {
		running.add(options);
		if (cancelled) terminate(options);
	}

	/** After the call returned or threw; before the options are closed. */
	public synchronized void unregister(RunOptions options) {
		running.remove(options);
	}

	private void terminate(RunOptions options) {
		try {
			options.setTerminate(true);
			terminated++;
		}
		catch (OrtException e) {
			// the call then runs to its end: cancellation still happens at the next step
		}
	}
}
