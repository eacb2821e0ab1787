package sc.fiji.sd.cli;

import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Ctrl-C during a generation: the run stops at once (the pipeline terminates the UNet call in flight), the image of
 * the last finished step is written, and the command exits with {@value #EXIT_CODE} (the shell's code for Ctrl-C).
 * A second Ctrl-C ends the process at once, writing nothing.
 * <p>
 * Why a signal handler and not a shutdown hook: once the JVM shuts down, ONNX Runtime's own clean-up runs alongside
 * and the decoder call that makes the last image crashes in native code. Where the JVM offers no SIGINT handling,
 * Ctrl-C keeps its default (the process ends, nothing is written).
 */
final class Interrupt implements AutoCloseable {

	static final int EXIT_CODE = 130;

	private volatile boolean requested;
	private final SignalHandler previous;

	Interrupt() {
		SignalHandler old = null;
		try {
			old = Signal.handle(new Signal("INT"), signal -> {
				if (requested) Runtime.getRuntime().halt(EXIT_CODE); // a second Ctrl-C: stop now
				requested = true;
			});
		}
		catch (IllegalArgumentException | UnsupportedOperationException e) {
			// no SIGINT here (or the JVM runs with -Xrs): the default behaviour stays
		}
		previous = old;
	}

	/** True once Ctrl-C was pressed: the progress listener's answer to isCanceled. */
	boolean requested() {
		return requested;
	}

	/** Gives SIGINT back its previous handler (the default ends the process). */
	@Override
	public void close() {
		if (previous == null) return;
		try {
			Signal.handle(new Signal("INT"), previous);
		}
		catch (IllegalArgumentException | UnsupportedOperationException e) {
			// as above
		}
	}
}
