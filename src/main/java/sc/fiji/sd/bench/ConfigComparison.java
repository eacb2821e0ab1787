package sc.fiji.sd.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import sc.fiji.sd.onnx.CfgMode;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.ModelOptimizer;
import sc.fiji.sd.onnx.RuntimeOptions;
import sc.fiji.sd.onnx.RuntimeOptions.ArenaUse;

/**
 * {@code bench --compare-configs}: every component (text encoder, UNet at batch 1 and 2, VAE decoder and encoder)
 * under the ONNX Runtime configurations that matter, each configuration in a process of its own ({@link ConfigProbe})
 * so that its session load time and peak resident memory are its own. Rounds alternate the configurations (the order
 * rotates each round), so a change in machine load hits them all alike. Reported per stage: median and min of every
 * configuration, the best (fastest median) marked; per configuration: load time, peak RSS against the memory goal.
 * Our own generation (the pipeline with the default options) runs as one more process in the rotation, and
 * {@code overhead} becomes our generation over the best floor: the generation's calls priced at the fastest median
 * measured for each stage.
 */
public final class ConfigComparison {

	static final String[] COMPONENTS = { "text_encoder", "unet", "vae_decoder", "vae_encoder" };
	static final String TEXT = "text encoder", UNET1_SINGLE = "UNet call, batch 1",
		UNET1 = "CFG step as two batch-1 UNet calls", UNET2 = "CFG step as one batch-2 UNet call",
		DECODE = "VAE decoder", ENCODE = "VAE encoder", GENERATION = "generation (pipeline, ours)";
	static final String[] STAGES = { TEXT, UNET1_SINGLE, UNET1, UNET2, DECODE, ENCODE };

	/**
	 * One configuration: a name, the runtime options its sessions get, whether it empties the arenas after use as
	 * the pipeline does, and whether it is the pipeline itself.
	 */
	public record Config(String name, RuntimeOptions runtime, boolean releaseArenas, boolean pipeline, String about) {

		/**
		 * {@code name;opt;arena;pattern;threads;release;pipeline;cfg;component=LEVEL,…;optimised-file folder or -}: what
		 * a child process is told.
		 */
		String spec() {
			StringBuilder levels = new StringBuilder();
			runtime.componentOptLevels().forEach((k, v) -> levels.append(levels.length() == 0 ? "" : ",").append(k)
				.append('=').append(v.name()));
			return String.join(";", name, runtime.optLevel().name(), runtime.cpuArena().name(),
				String.valueOf(runtime.memoryPattern()), String.valueOf(runtime.threads()), String.valueOf(releaseArenas),
				String.valueOf(pipeline), runtime.cfg().name(), levels, runtime.optimizedModels() == null ? "-"
					: runtime.optimizedModels().toString());
		}

		static Config parse(String spec) {
			String[] f = spec.split(";", -1);
			RuntimeOptions r = RuntimeOptions.DEFAULTS.withDevice(Device.CPU).withOptLevel(OptLevel.valueOf(f[1]))
				.withCpuArena(ArenaUse.valueOf(f[2])).withMemoryPattern(f[3].equals("null") ? null : Boolean.valueOf(f[3]))
				.withThreads(Integer.parseInt(f[4])).withCfg(CfgMode.valueOf(f[7]))
				.withOptimizedModels(f[9].equals("-") ? null : Path.of(f[9]));
			for (String level : f[8].split(",")) {
				int eq = level.indexOf('=');
				if (eq > 0) r = r.withOptLevel(level.substring(0, eq), OptLevel.valueOf(level.substring(eq + 1)));
			}
			return new Config(f[0], r, Boolean.parseBoolean(f[5]), Boolean.parseBoolean(f[6]), "");
		}
	}

	/**
	 * The configurations compared, by name: ours (today's defaults), the previous defaults (BASIC everywhere), the older
	 * arena-off setting, EXTENDED and ALL everywhere with our memory handling, ALL through optimised-model files in
	 * {@code optimizedFiles}, our arenas never emptied, ALL with them never emptied, sd4j's (ALL + arena + memory
	 * pattern everywhere, nothing released, batched CFG), ours on one thread; and the pipeline's own generation.
	 * Only "ours", "ours-keep", "ours-1thread" and the pipeline keep optimised files (in {@code optimizedFiles}).
	 */
	public static List<Config> configs(int threads, Path optimizedFiles) {
		RuntimeOptions ours = RuntimeOptions.DEFAULTS.withDevice(Device.CPU).withThreads(threads)
			.withOptimizedModels(optimizedFiles);
		RuntimeOptions basic = ours.withOptLevel(OptLevel.BASIC_OPT).withOptimizedModels(null);
		List<Config> list = new ArrayList<>();
		list.add(new Config("ours", ours, true, false, "today's defaults: " + levels(ours) + "; arena for UNet and VAE, "
			+ "emptied after use (UNet: after a batch's last call, VAE: after each call); memory pattern only for the "
			+ "text encoder"));
		list.add(new Config("basic", basic, true, false, "BASIC everywhere (the defaults of 2026-12-02); our memory handling"));
		list.add(new Config("basic-noarena", basic.withCpuArena(ArenaUse.NONE), true, false,
			"BASIC; no arena, memory pattern everywhere (the 2026-12-01 setting)"));
		list.add(new Config("extended", basic.withOptLevel(OptLevel.EXTENDED_OPT), true, false,
			"EXTENDED everywhere; our memory handling"));
		list.add(new Config("all", basic.withOptLevel(OptLevel.ALL_OPT), true, false,
			"ALL everywhere, optimised on every load; our memory handling"));
		list.add(new Config("all-cached", basic.withOptLevel(OptLevel.ALL_OPT).withOptimizedModels(optimizedFiles), true,
			false, "ALL everywhere through optimised-model files (written by the first load, read by later ones)"));
		list.add(new Config("ours-keep", ours, false, false, "as ours, but no arena is ever emptied"));
		list.add(new Config("all-keep", basic.withOptLevel(OptLevel.ALL_OPT), false, false,
			"ALL; arena for UNet and VAE, never emptied; memory pattern only for the text encoder"));
		list.add(new Config("sd4j", basic.withOptLevel(OptLevel.ALL_OPT).withCpuArena(ArenaUse.ALL)
			.withMemoryPattern(true).withCfg(CfgMode.BATCHED), false, false,
			"sd4j's: ALL, arena and memory pattern for every session, never emptied, batched CFG"));
		list.add(new Config("ours-1thread", ours.withThreads(1), true, false, "as ours on 1 intra-op thread"));
		list.add(new Config("pipeline", ours, true, true, "our generation: the pipeline with the default options"));
		return list;
	}

	/** "BASIC, vae_decoder ALL, …" */
	private static String levels(RuntimeOptions r) {
		StringBuilder sb = new StringBuilder(r.optLevel().name().replace("_OPT", ""));
		new java.util.TreeMap<>(r.componentOptLevels()).forEach((k, v) -> sb.append(", ").append(k).append(' ')
			.append(v.name().replace("_OPT", "")));
		return sb.toString();
	}

	/** What to measure. */
	public static final class Options {
		public Path model;
		public int width = 0, height = 0, steps = 3, rounds = 2, calls = 2, threads = 0;
		public double guidance = 7.0;
		/** Names of the configurations to run (empty: all of {@link #configs}). */
		public List<String> only = new ArrayList<>();
		/** The java executable and class path of the child processes (default: this JVM's). */
		public String java = ProcessHandle.current().info().command().orElse("java");
		public String classPath = System.getProperty("java.class.path");
		/** Profile the VAE decoder of each configuration with ONNX Runtime's profiler (per-operator times). */
		public boolean profile;
		/**
		 * The first load of a configuration that keeps optimised files optimises inside its child, as before
		 * 2026-12-05 ({@code -Dsd.optimize=in-process}); else in processes of its own, reported apart.
		 */
		public boolean optimizeInProcess;
		/** Java heap of a child: small, the tensors live in native memory. */
		public String childHeap = "-Xmx1g";
	}

	/** Measurements of one configuration, pooled over rounds: key (stage, load, …) → values. */
	static final class Measured {
		final Config config;
		final Map<String, List<Double>> values = new LinkedHashMap<>();

		Measured(Config config) {
			this.config = config;
		}

		void add(String key, double v) {
			values.computeIfAbsent(key, k -> new ArrayList<>()).add(v);
		}

		List<Double> get(String key) {
			return values.getOrDefault(key, List.of());
		}

		double median(String key) {
			return BenchReport.median(get(key));
		}

		double min(String key) {
			return get(key).stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
		}

		double max(String key) {
			return get(key).stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
		}
	}

	/** The comparison's result: the measurements and the formatted report. */
	public static final class Result {
		final List<Measured> measured;
		final List<String> lines = new ArrayList<>();
		/** Stage → name of the configuration with the fastest median. */
		public final Map<String, String> best = new LinkedHashMap<>();
		/** Stage → the fastest median (seconds). */
		public final Map<String, Double> bestFloor = new LinkedHashMap<>();
		public double overhead = Double.NaN;

		Result(List<Measured> measured) {
			this.measured = measured;
		}

		/** Configuration names in the order given. */
		public List<String> configs() {
			return measured.stream().map(m -> m.config.name()).toList();
		}

		/** Every value measured for a configuration and key (stage, "load", "rss.peak"…). */
		public List<Double> values(String config, String key) {
			return measured.stream().filter(m -> m.config.name().equals(config)).findFirst().map(m -> m.get(key))
				.orElse(List.of());
		}

		public String format() {
			return String.join("\n", lines);
		}
	}

	private ConfigComparison() {}

	/** Runs the comparison; progress lines go to {@code log} (may be null). */
	public static Result run(Options o, PrintWriter log) {
		if (o.rounds < 1 || o.calls < 1) throw new IllegalArgumentException("rounds and calls must be at least 1");
		Path optimizedFiles;
		try {
			// fresh for every comparison: the first load of a configuration that keeps optimised files writes them
			optimizedFiles = java.nio.file.Files.createTempDirectory("sd-compare-optimized");
		}
		catch (IOException e) {
			throw new IllegalStateException("Cannot create a temporary folder: " + e.getMessage(), e);
		}
		try {
			return run(o, log, optimizedFiles);
		}
		finally {
			sc.fiji.sd.onnx.OptimizedModelCache.delete(optimizedFiles);
		}
	}

	private static Result run(Options o, PrintWriter log, Path optimizedFiles) {
		List<Config> configs = new ArrayList<>();
		for (Config c : configs(o.threads, optimizedFiles)) if (o.only.isEmpty() || o.only.contains(c.name())) configs.add(c);
		if (configs.isEmpty()) throw new IllegalArgumentException("No configuration named " + o.only);
		List<Measured> measured = new ArrayList<>();
		for (Config c : configs) measured.add(new Measured(c));
		String loadStart = Benchmark.loadAverage();
		int width = o.width > 0 ? o.width : nativeSize(o.model), height = o.height > 0 ? o.height : nativeSize(o.model);
		for (int round = 0; round < o.rounds; round++) {
			for (int k = 0; k < measured.size(); k++) {
				Measured m = measured.get((k + round) % measured.size()); // rotated: each configuration runs early and late
				if (log != null) {
					log.printf(Locale.ROOT, "round %d of %d: %s (load average %s)%n", round + 1, o.rounds, m.config.name(),
						Benchmark.loadAverage());
					log.flush();
				}
				probe(o, m, width, height, log);
			}
		}
		Result result = new Result(measured);
		report(result, o, width, height, loadStart);
		return result;
	}

	/** The command line of one child process. */
	static List<String> probeCommand(Options o, Config c, int width, int height) {
		List<String> cmd = new ArrayList<>(List.of(o.java, o.childHeap));
		if (o.optimizeInProcess) cmd.add("-D" + ModelOptimizer.PLACEMENT + "=in-process");
		cmd.addAll(List.of("-cp", o.classPath, ConfigProbe.class.getName(), c.spec(), o.model.toAbsolutePath()
			.toString(), String.valueOf(width), String.valueOf(height), String.valueOf(o.calls)));
		if (c.pipeline()) {
			cmd.add(String.valueOf(o.steps));
			cmd.add(String.valueOf(o.guidance));
		}
		else if (o.profile) cmd.add("--profile");
		return cmd;
	}

	private static void probe(Options o, Measured m, int width, int height, PrintWriter log) {
		ProcessBuilder pb = new ProcessBuilder(probeCommand(o, m.config, width, height));
		pb.redirectError(ProcessBuilder.Redirect.DISCARD);
		StringBuilder other = new StringBuilder();
		try {
			Process p = pb.start();
			try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
				for (String line; (line = r.readLine()) != null;) {
					String[] f = line.split("\t");
					if (f.length == 3 && f[0].equals("probe")) {
						m.add(f[1], Double.parseDouble(f[2]));
						if (log != null) { // as it comes: a comparison stopped early still shows what it measured
							log.println("  " + m.config.name() + " " + f[1] + " " + f[2]);
							log.flush();
						}
					}
					else other.append(line).append('\n');
				}
			}
			int rc = p.waitFor();
			if (rc != 0) throw new IllegalStateException("configuration " + m.config.name() + " failed (exit " + rc + ")"
				+ (other.length() > 0 ? ": " + other.toString().trim() : ""));
		}
		catch (IOException e) {
			throw new IllegalStateException("Cannot start the child process for " + m.config.name() + ": " + e.getMessage(), e);
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("interrupted", e);
		}
	}

	private static void report(Result r, Options o, int width, int height, String loadStart) {
		List<String> out = r.lines;
		long weights = Benchmark.weightBytes(o.model);
		long limit = (long) (1.5 * weights) + (1L << 30);
		out.add(String.format(Locale.ROOT, "compare-configs: %s, %dx%d, ONNX Runtime %s, %d cores, %d rounds × %d timed "
			+ "calls per stage (after a first call), configurations alternating, one child process each",
			o.model.getFileName(), width, height, sc.fiji.sd.onnx.OnnxEnvironment.get().getVersion(),
			Runtime.getRuntime().availableProcessors(), o.rounds, o.calls));
		out.add("load average (1, 5, 15 min) at the start: " + loadStart + "; at the end: " + Benchmark.loadAverage());
		out.add("configurations:");
		for (Measured m : r.measured) {
			Config c = m.config;
			out.add(String.format(Locale.ROOT, "  %-14s %s; %d threads", c.name(), c.about(), c.runtime().intraOpThreads()));
		}
		int w = 14;
		out.add(String.format(Locale.ROOT, "%-36s %-" + w + "s %12s %12s %12s %4s", "stage", "configuration", "median",
			"min", "max", "n"));
		for (String stage : STAGES) {
			String bestName = null;
			double best = Double.POSITIVE_INFINITY;
			for (Measured m : r.measured) {
				double med = m.median("call." + stage);
				if (!Double.isNaN(med) && med < best) {
					best = med;
					bestName = m.config.name();
				}
			}
			if (bestName == null) continue;
			r.best.put(stage, bestName);
			r.bestFloor.put(stage, best);
			for (Measured m : r.measured) {
				List<Double> v = m.get("call." + stage);
				if (v.isEmpty()) continue;
				double med = m.median("call." + stage);
				out.add(String.format(Locale.ROOT, "%-36s %-" + w + "s %12s %12s %12s %4d%s", stage, m.config.name(),
					BenchReport.time(med), BenchReport.time(m.min("call." + stage)), BenchReport.time(m.max("call." + stage)),
					v.size(), m.config.name().equals(bestName) ? "  best" : String.format(Locale.ROOT, "  +%.1f %%",
						100 * (med / best - 1))));
			}
		}
		for (Measured m : r.measured) {
			List<Double> v = m.get("call." + GENERATION);
			if (!v.isEmpty()) out.add(String.format(Locale.ROOT, "%-36s %-" + w + "s %12s %12s %12s %4d", GENERATION,
				m.config.name(), BenchReport.time(m.median("call." + GENERATION)), BenchReport.time(m.min("call." + GENERATION)),
				BenchReport.time(m.max("call." + GENERATION)), v.size()));
		}
		out.add(String.format(Locale.ROOT, "per configuration (weights %s; memory goal: peak ≤ 1.5 × weights + 1 GB = %s):",
			BenchReport.mb(weights), BenchReport.mb(limit)));
		out.add(String.format(Locale.ROOT, "  %-14s %14s %14s %14s %14s %14s %8s  %s", "configuration", "load median",
			"load min", "load max", "RSS after load", "peak RSS", "goal", "child load avg (median)"));
		for (Measured m : r.measured) {
			double peak = m.max("rss.peak");
			out.add(String.format(Locale.ROOT, "  %-14s %14s %14s %14s %14s %14s %8s  %.2f", m.config.name(),
				BenchReport.time(m.median("load")), BenchReport.time(m.min("load")), BenchReport.time(m.max("load")),
				BenchReport.mb((long) m.max("rss.afterLoad")), BenchReport.mb((long) peak),
				Double.isNaN(peak) ? "-" : peak <= limit ? "within" : "OVER", m.median("loadavg")));
		}
		for (Measured m : r.measured) {
			if (m.get("optimize.count").isEmpty()) continue;
			out.add(String.format(Locale.ROOT, "  %-14s its first load had %.0f optimised files written by separate "
				+ "processes: %s in all (within its load time), their largest peak %s (not in its peak RSS)",
				m.config.name(), m.max("optimize.count"), BenchReport.time(m.max("optimize.seconds")),
				BenchReport.mb((long) m.max("optimize.peak"))));
		}
		if (o.optimizeInProcess) out.add("  (first loads optimised inside the measured process: --optimize-in-process)");
		if (o.profile) profileLines(r, out);
		out.add("best floor per stage (fastest median): " + String.join(", ", r.best.entrySet().stream().map(e -> e
			.getKey() + " " + BenchReport.time(r.bestFloor.get(e.getKey())) + " (" + e.getValue() + ")").toList()));
		Measured pipeline = r.measured.stream().filter(m -> m.config.pipeline()).findFirst().orElse(null);
		if (pipeline != null && !pipeline.get("call." + GENERATION).isEmpty()) {
			double text = pipeline.median("count.text_encoder"), unet = pipeline.median("count.unet"),
				batch = pipeline.median("unet.batch"), decode = pipeline.median("count.vae_decoder");
			// a CFG step's UNet work at its best, batched or as two calls, whichever measured faster
			double steps = batch == 2 || o.guidance <= 1 ? unet : unet / 2;
			double step = o.guidance <= 1 ? r.bestFloor.getOrDefault(UNET1_SINGLE, Double.NaN)
				: Math.min(r.bestFloor.getOrDefault(UNET2, Double.NaN), r.bestFloor.getOrDefault(UNET1, Double.NaN));
			double floor = text * r.bestFloor.getOrDefault(TEXT, Double.NaN) + steps * step
				+ decode * r.bestFloor.getOrDefault(DECODE, Double.NaN);
			out.add(String.format(Locale.ROOT, "best floor of one generation: %.0f text encoder calls, %.0f CFG steps, %.0f "
				+ "VAE decode at the fastest medians = %s; our generation (median) %s", text, steps, decode,
				BenchReport.time(floor), BenchReport.time(pipeline.median("call." + GENERATION))));
			r.overhead = pipeline.median("call." + GENERATION) / floor;
			out.add(String.format(Locale.ROOT, "overhead over the best floor: %.3f", r.overhead));
		}
	}

	/**
	 * Where a VAE decode's time goes in each configuration, from ONNX Runtime's profiler (per timed run, the profiler's
	 * own time included): the run, the kernels, the rest of the run outside the kernels, and the operators taking the
	 * most time.
	 */
	private static void profileLines(Result r, List<String> out) {
		out.add("VAE decoder by operator (ONNX Runtime profiler, per run, median over rounds):");
		for (Measured m : r.measured) {
			if (m.get("profile.run").isEmpty()) continue;
			double run = m.median("profile.run"), kernels = m.median("profile.kernels");
			List<Map.Entry<String, Double>> ops = new ArrayList<>();
			for (String key : m.values.keySet()) {
				if (key.startsWith("profile.op.")) ops.add(Map.entry(key.substring(11), m.median(key)));
			}
			ops.sort(Map.Entry.<String, Double>comparingByValue().reversed());
			StringBuilder top = new StringBuilder();
			for (int i = 0; i < Math.min(6, ops.size()); i++) top.append(i == 0 ? "" : ", ").append(ops.get(i).getKey())
				.append(' ').append(BenchReport.time(ops.get(i).getValue()));
			out.add(String.format(Locale.ROOT, "  %-14s run %s, kernels %s, outside the kernels %s; %s", m.config.name(),
				BenchReport.time(run), BenchReport.time(kernels), BenchReport.time(run - kernels), top));
		}
	}

	/** The UNet's native size in pixels ({@code sample_size} × 8 of unet/config.json), else 512. */
	static int nativeSize(Path model) {
		try {
			var config = com.google.gson.JsonParser.parseString(java.nio.file.Files.readString(model.resolve("unet")
				.resolve("config.json"))).getAsJsonObject();
			return config.has("sample_size") ? config.get("sample_size").getAsInt() * 8 : 512;
		}
		catch (IOException | RuntimeException e) {
			return 512;
		}
	}

	/** Parses configuration names for {@code --configs}. */
	public static List<String> parseNames(List<String> names) {
		List<String> known = configs(0, null).stream().map(Config::name).toList();
		for (String n : names) {
			if (!known.contains(n)) throw new IllegalArgumentException("Unknown configuration '" + n + "': use "
				+ String.join(", ", known) + ".");
		}
		return names;
	}

}
