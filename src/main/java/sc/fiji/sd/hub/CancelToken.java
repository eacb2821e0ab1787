package sc.fiji.sd.hub;

import java.io.Closeable;
import java.io.IOException;

/**
 * Stops a download at any moment from another thread (a Cancel button, Ctrl-C): the transfer in progress is closed,
 * the partial blob stays as {@code .incomplete} (the next download resumes it) and nothing is linked into the snapshot.
 */
public final class CancelToken {

	private volatile boolean cancelled;
	private volatile Closeable current;
	private volatile Thread worker;

	public void cancel() {
		cancelled = true;
		Closeable c = current;
		if (c != null) {
			try {
				c.close();
			}
			catch (IOException | RuntimeException e) {
				// closing is best effort: the flag stops the loop anyway
			}
		}
		Thread w = worker;
		if (w != null) w.interrupt(); // a read blocked on a silent server wakes up
	}

	public boolean cancelled() { return cancelled; }

	void attach(Closeable stream) {
		current = stream;
		if (cancelled) cancel();
	}

	void start() { worker = Thread.currentThread(); }

	void finish() {
		worker = null;
		current = null;
		Thread.interrupted(); // clear an interrupt meant for the transfer, not for the caller
	}

	void check() {
		if (cancelled) throw new HubException(HubException.Kind.CANCELLED, "Download cancelled. What was fetched so far "
			+ "is kept in the cache and the next download of the same model resumes it.");
	}
}
