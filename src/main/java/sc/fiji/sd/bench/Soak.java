package sc.fiji.sd.bench;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.StableDiffusionPipeline;

/**
 * The soak: many generations in one process, with resident memory (VmRSS), open file descriptors and threads (native
 * ones included) and the committed Java heap sampled at the start (after one warm-up generation), the middle and the end. A leak shows as a slope:
 * the change per 100 generations from the middle to the end (the first half absorbs allocator and JIT warm-up).
 */
public final class Soak {

	/** One measurement after {@code generations} generations. */
	public record Sample(int generations, long rssBytes, long heapCommittedBytes, int openFiles, int threads) {}

	public record Report(int generations, List<Sample> samples, double seconds) {

		/** Change per 100 generations from the middle sample to the last. */
		public double rssSlopePer100() {
			return slope(samples.get(1).rssBytes(), samples.get(2).rssBytes());
		}

		public double openFilesSlopePer100() {
			return slope(samples.get(1).openFiles(), samples.get(2).openFiles());
		}

		public double threadsSlopePer100() {
			return slope(samples.get(1).threads(), samples.get(2).threads());
		}

		private double slope(double middle, double end) {
			int span = samples.get(2).generations() - samples.get(1).generations();
			return span == 0 ? 0 : (end - middle) * 100.0 / span;
		}

		public String format() {
			StringBuilder sb = new StringBuilder();
			sb.append(String.format(Locale.ROOT, "soak: %d generations in %.1f s%n", generations, seconds));
			sb.append(String.format(Locale.ROOT, "%-12s %12s %12s %10s %8s%n", "after", "VmRSS MB", "heap MB", "open fds",
				"threads"));
			for (Sample s : samples) {
				sb.append(String.format(Locale.ROOT, "%-12d %12.1f %12.1f %10d %8d%n", s.generations(), s.rssBytes() / 1048576.0,
					s.heapCommittedBytes() / 1048576.0, s.openFiles(), s.threads()));
			}
			sb.append(String.format(Locale.ROOT, "slope per 100 generations (middle to end): VmRSS %+.2f MB, open fds %+.2f, "
				+ "threads %+.2f", rssSlopePer100() / 1048576.0, openFilesSlopePer100(), threadsSlopePer100()));
			return sb.toString();
		}
	}

	private Soak() {}

	/** Runs {@code count} generations of {@code request} (seeds 0, 1, …) after one warm-up; progress on {@code log}. */
	public static Report run(StableDiffusionPipeline pipeline, GenerationRequest request, int count, PrintWriter log) {
		if (count < 2) throw new IllegalArgumentException("a soak needs at least 2 generations");
		pipeline.generate(request.toBuilder().seed(count).build(), null); // warm-up: sessions, JIT, arenas
		List<Sample> samples = new ArrayList<>();
		samples.add(sample(0));
		long start = System.nanoTime();
		int middle = count / 2;
		for (int i = 1; i <= count; i++) {
			pipeline.generate(request.toBuilder().seed(i - 1).build(), null);
			if (i == middle || i == count) samples.add(sample(i));
			if (log != null && (i % 10 == 0 || i == count)) {
				log.printf(Locale.ROOT, "soak %d of %d%n", i, count);
				log.flush();
			}
		}
		return new Report(count, samples, (System.nanoTime() - start) / 1e9);
	}

	private static Sample sample(int generations) {
		// Committed heap: part of VmRSS that grows towards -Xmx without being a leak (the JVM takes memory lazily).
		return new Sample(generations, MemoryStats.rss(), Runtime.getRuntime().totalMemory(), MemoryStats.openFiles(),
			MemoryStats.threads());
	}
}
