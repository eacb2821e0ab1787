package sc.fiji.sd.hub;

/** What a download reports while it runs (called on the downloading thread). */
public interface DownloadListener {

	/**
	 * Bytes so far.
	 *
	 * @param done bytes of the selected files present (including those already in the cache or resumed)
	 * @param total bytes of all selected files
	 * @param bytesPerSecond transfer rate of this run so far
	 * @param secondsLeft estimated time left, or -1 while unknown
	 * @param file the file being fetched
	 */
	record Progress(long done, long total, double bytesPerSecond, double secondsLeft, String file) {

		public double fraction() { return total <= 0 ? 1 : Math.min(1, done / (double) total); }
	}

	/** Before the first byte: what will be fetched. */
	default void planned(DownloadPlan plan) {}

	default void progress(Progress progress) {}

	/** A line for the log or status bar (e.g. "unet/model.onnx already in the cache"). */
	default void message(String text) {}

	DownloadListener NONE = new DownloadListener() {};
}
