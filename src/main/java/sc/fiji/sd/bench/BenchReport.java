package sc.fiji.sd.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What {@code bench} prints: a header, a table of per-stage timings (median, min, max, count), memory and check
 * lines, and as the very last line {@code overhead: X.XXX} (median whole generation / median ONNX floor).
 */
public final class BenchReport {

	/** One timed stage; {@code seconds} are the individual measurements. */
	public record Row(String stage, double[] seconds) {
		public double median() { return BenchReport.median(seconds); }
		public double min() { return Arrays.stream(seconds).min().orElse(Double.NaN); }
		public double max() { return Arrays.stream(seconds).max().orElse(Double.NaN); }
	}

	final List<String> header = new ArrayList<>();
	final List<Row> rows = new ArrayList<>();
	final List<String> notes = new ArrayList<>();
	final java.util.Map<String, Integer> callsPerGeneration = new java.util.LinkedHashMap<>();
	long unetCallsPerGeneration = -1, unetBatch = -1, allocatedPerStep = -1;
	double overhead = Double.NaN;

	public List<Row> rows() { return rows; }

	/** Session calls of one generation, per component (text_encoder, unet, vae_decoder): what the floor replays. */
	public java.util.Map<String, Integer> callsPerGeneration() { return callsPerGeneration; }

	/** UNet calls of one generation as the pipeline's own counter saw them. */
	public long unetCallsPerGeneration() { return unetCallsPerGeneration; }

	/** Batch size of the UNet calls (2 per image with CFG in one call). */
	public long unetBatch() { return unetBatch; }

	/** Median bytes the generating thread allocated on the Java heap from one finished step to the next. */
	public long allocatedPerStep() { return allocatedPerStep; }
	public List<String> notes() { return notes; }
	public double overhead() { return overhead; }

	/** The row of a stage, or null. */
	public Row row(String stage) {
		for (Row r : rows) if (r.stage.equals(stage)) return r;
		return null;
	}

	void header(String line) { header.add(line); }

	void note(String format, Object... args) { notes.add(String.format(Locale.ROOT, format, args)); }

	void add(String stage, List<Double> seconds) {
		if (seconds.isEmpty()) return;
		rows.add(new Row(stage, seconds.stream().mapToDouble(Double::doubleValue).toArray()));
	}

	void add(String stage, double seconds) {
		rows.add(new Row(stage, new double[] { seconds }));
	}

	public static double median(double[] values) {
		if (values.length == 0) return Double.NaN;
		double[] v = values.clone();
		Arrays.sort(v);
		int n = v.length;
		return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	}

	static double median(List<Double> values) {
		return median(values.stream().mapToDouble(Double::doubleValue).toArray());
	}

	/** The printed report; its last line is {@code overhead: X.XXX}. */
	public String format() {
		StringBuilder sb = new StringBuilder();
		header.forEach(h -> sb.append(h).append('\n'));
		int w = Math.max(40, rows.stream().mapToInt(r -> r.stage.length()).max().orElse(0) + 2);
		sb.append(String.format(Locale.ROOT, "%-" + w + "s %12s %12s %12s %5s%n", "stage", "median", "min", "max", "n"));
		for (Row r : rows) {
			sb.append(String.format(Locale.ROOT, "%-" + w + "s %12s %12s %12s %5d%n", r.stage, time(r.median()),
				time(r.min()), time(r.max()), r.seconds.length));
		}
		notes.forEach(n -> sb.append(n).append('\n'));
		sb.append(String.format(Locale.ROOT, "overhead: %.3f", overhead));
		return sb.toString();
	}

	static String time(double seconds) {
		if (Double.isNaN(seconds)) return "-";
		double ms = seconds * 1000;
		return ms < 100 ? String.format(Locale.ROOT, "%.2f ms", ms) : String.format(Locale.ROOT, "%.1f ms", ms);
	}

	static String mb(long bytes) {
		return bytes < 0 ? "n/a" : String.format(Locale.ROOT, "%.0f MB", bytes / 1048576.0);
	}
}
