package sc.fiji.sd.pipeline;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import sc.fiji.sd.onnx.Cancellation;

/**
 * Polls a listener's {@link ProgressListener#isCanceled()} while a generation runs, every {@value #PERIOD_MS} ms, and
 * cancels the generation's {@link Cancellation} when it says so: a UNet call in flight then stops within
 * milliseconds (Esc, Ctrl-C), not at the end of its step (seconds at 512×512 on a CPU).
 * <p>
 * One daemon thread serves every generation of the process and ends after a second without work, so an idle
 * plugin holds no thread.
 */
final class CancelWatch implements AutoCloseable {

	static final long PERIOD_MS = 50;

	private static final ScheduledThreadPoolExecutor POLLER = poller();

	private final ScheduledFuture<?> task;

	private static ScheduledThreadPoolExecutor poller() {
		ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
			Thread t = new Thread(r, "Stable Diffusion cancel watch");
			t.setDaemon(true);
			return t;
		});
		e.setKeepAliveTime(1, TimeUnit.SECONDS);
		e.allowCoreThreadTimeOut(true);
		e.setRemoveOnCancelPolicy(true);
		return e;
	}

	CancelWatch(ProgressListener listener, Cancellation cancellation) {
		task = POLLER.scheduleWithFixedDelay(() -> {
			try {
				if (listener.isCanceled()) cancellation.cancel();
			}
			catch (RuntimeException e) {
				// a listener that fails here is asked again between steps, on the generating thread
			}
		}, PERIOD_MS, PERIOD_MS, TimeUnit.MILLISECONDS);
	}

	@Override
	public void close() {
		task.cancel(false);
	}
}
