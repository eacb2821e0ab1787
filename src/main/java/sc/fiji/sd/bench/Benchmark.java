package sc.fiji.sd.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.real.FloatType;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import sc.fiji.sd.lora.LoraSpec;
import sc.fiji.sd.model.ModelProvider;
import sc.fiji.sd.model.OnnxComponent;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.CfgMode;
import sc.fiji.sd.onnx.ExecutionProviders;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.ExecutionProviders.SessionMemory;
import sc.fiji.sd.onnx.OnnxEnvironment;
import sc.fiji.sd.onnx.RuntimeOptions;
import sc.fiji.sd.pipeline.ControlNetUnit;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.ProgressListener;
import sc.fiji.sd.pipeline.StableDiffusionPipeline;
import sc.fiji.sd.pipeline.StepProgress;

/**
 * Where the time of a generation goes, and how close the pipeline is to ONNX Runtime itself.
 * <p>
 * Order of work: start ONNX Runtime; load the model cold (all sessions) and ask the cache again (must not reload);
 * the first generation (reported on its own: it includes ONNX Runtime's first-run allocations); a second, warm-up
 * generation that also records every session call with a copy of its inputs; then {@code runs} rounds of one timed
 * generation followed by the <b>ONNX floor</b>: the recorded calls replayed in a bare loop with inputs built and
 * outputs allocated beforehand. Generation and floor alternate so that a change in machine load hits both alike.
 * Overhead = median generation / median floor: what the pipeline costs beyond the network evaluations.
 * <p>
 * Then, optionally: one batch-2 UNet call against two batch-1 calls (the two ways to run classifier-free guidance),
 * the VAE encoder, and, with the model closed, UNet session creation at other graph optimisation levels and from an
 * optimised-model file.
 */
public final class Benchmark {

	/** What to measure. */
	public static final class Options {
		public Path model;
		public String device = "auto";
		public int steps = 20, width, height, runs = 5;
		public double guidance = 7.0;
		public long seed = 42;
		public String prompt = "a red circle on a blue background";
		public String negative = "";
		public String scheduler;
		/** Compare one batch-2 UNet call with two batch-1 calls (only with guidance > 1). */
		public boolean compareCfg = true;
		/** How CFG runs the UNet in the generations (AUTO: the pipeline's rule). */
		public CfgMode cfgMode = CfgMode.AUTO;
		/** Session settings (threads, memory handling, graph optimisation); {@link #device} chooses the device. */
		public RuntimeOptions runtime = RuntimeOptions.DEFAULTS;
		/** Measure the VAE encoder (image to image, inpainting). */
		public boolean vaeEncode = true;
		/** Graph optimisation levels to compare UNet session creation and call time at (empty: none). */
		public List<OptLevel> optLevels = new ArrayList<>();
		/** Also measure writing and loading an optimised UNet model file (setOptimizedModelFilePath). */
		public boolean optimizedCache;
		/** ControlNets (OnnxStack's layout) guiding the generations: their cost per step is reported (empty: none). */
		public List<Path> controlNets = new ArrayList<>();
		/** The control image of every ControlNet, X × Y × 3 in [0, 1] (null: a white disc on black). */
		public RandomAccessibleInterval<FloatType> controlImage;
	}

	private final Options o;
	private final PrintWriter log;
	private final BenchReport report = new BenchReport();

	private Benchmark(Options options, PrintWriter log) {
		this.o = options;
		this.log = log;
	}

	/** A white disc on black filling the middle of a width × height RGB image: the default control image. */
	static RandomAccessibleInterval<FloatType> disc(int width, int height) {
		var img = ArrayImgs.floats(width, height, 3);
		double r = Math.min(width, height) / 3.0;
		var c = img.localizingCursor();
		while (c.hasNext()) {
			c.fwd();
			double dx = c.getDoublePosition(0) - width / 2.0, dy = c.getDoublePosition(1) - height / 2.0;
			c.get().set(dx * dx + dy * dy < r * r ? 1f : 0f);
		}
		return img;
	}

	/** Runs the benchmark; progress lines go to {@code log} (may be null). */
	public static BenchReport run(Options options, PrintWriter log) {
		if (options.runs < 1) throw new IllegalArgumentException("runs must be at least 1");
		try {
			return new Benchmark(options, log).measure();
		}
		catch (OrtException e) {
			throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
		}
	}

	private void progress(String format, Object... args) {
		if (log == null) return;
		log.println(String.format(Locale.ROOT, format, args));
		log.flush();
	}

	/**
	 * The optimised-model files the cold load had written by separate processes (none when they were cached, or with
	 * {@code -Dsd.optimize=in-process}): their own time and peak, which the load's time includes and this process's
	 * peak does not.
	 */
	static void optimizerLines(BenchReport report, int runsBefore) {
		var all = sc.fiji.sd.onnx.ModelOptimizer.runs();
		for (var run : all.subList(runsBefore, all.size())) {
			report.add("optimising " + run.component() + " (separate process, in the load)", run.seconds());
			report.note("optimising %s in a separate process: %.1f s, its peak %s%s", run.component(), run.seconds(),
				BenchReport.mb(run.peakBytes()), run.written() ? "" : "; not written: " + run.failure());
		}
	}

	private BenchReport measure() throws OrtException {
		long t = System.nanoTime();
		OnnxEnvironment.get();
		double runtimeStart = since(t);

		ModelProvider cache = new ModelProvider();
		progress("loading %s", o.model);
		int optimizedBefore = sc.fiji.sd.onnx.ModelOptimizer.runs().size();
		t = System.nanoTime();
		RuntimeOptions runtime = o.runtime.withDevice(Device.parse(o.device));
		ModelProvider.Key key = new ModelProvider.Key(o.model, runtime, LoraSpec.NONE, o.controlNets);
		StableDiffusionModel model = cache.get(key);
		double coldLoad = since(t);
		t = System.nanoTime();
		boolean reloaded = cache.get(key) != model;
		double cachedGet = since(t);
		long rssAfterLoad = MemoryStats.rss();
		long weights = weightBytes(model.folder());

		var info = model.info();
		int width = o.width > 0 ? o.width : info.nativeSize(), height = o.height > 0 ? o.height : info.nativeSize();
		GenerationRequest.Builder builder = GenerationRequest.builder().prompt(o.prompt).negativePrompt(o.negative)
			.steps(o.steps).guidance(o.guidance).seed(o.seed).size(o.width, o.height).scheduler(o.scheduler);
		for (Path net : o.controlNets) {
			builder.control(new ControlNetUnit(net, o.controlImage != null ? o.controlImage : disc(width, height), "none"));
		}
		GenerationRequest request = builder.build();
		StableDiffusionPipeline pipeline = new StableDiffusionPipeline(model);
		pipeline.setCfgMode(o.cfgMode);

		report.header(String.format(Locale.ROOT, "bench: %s (%s), %s on %s%s, ONNX Runtime %s, %d CPU threads, graph optimisation %s",
			info.name(), info.unetType(), info.device(), info.provider(),
			info.fallbackReason() == null ? "" : " (" + info.fallbackReason() + ")", OnnxEnvironment.get().getVersion(),
			runtime.intraOpThreads(), runtime.optLevel()));
		report.header("machine: " + Runtime.getRuntime().availableProcessors() + " cores, load average " + loadAverage()
			+ " (1, 5, 15 min) at the start");
		report.header(String.format(Locale.ROOT, "request: txt2img %dx%d, %d steps, guidance %s, seed %d, %d timed runs (after a warm-up)",
			width, height, o.steps, o.guidance, o.seed, o.runs));

		StepTimer steps = new StepTimer();
		List<Double> generation = new ArrayList<>(), floor = new ArrayList<>(), text = new ArrayList<>(),
			unetCall = new ArrayList<>(), unetTotal = new ArrayList<>(), decode = new ArrayList<>(),
			other = new ArrayList<>(), controlNetCall = new ArrayList<>(), controlNetStep = new ArrayList<>();
		List<Long> rssAfterRun = new ArrayList<>();
		long unetCallsBefore, callsPerGeneration;
		List<RecordedCall> recorded;
		double firstGeneration;
		String firstByStage;
		long peakGeneration, heapPeak;
		boolean peakReset;
		MemoryStats.Sampler sampler = new MemoryStats.Sampler(25);
		try (CallRecorder calls = new CallRecorder(model)) {
			progress("first generation");
			MemoryStats.resetHeapPeak();
			peakReset = MemoryStats.resetPeak(); // from here on, VmHWM is the peak of generating (sessions loaded)
			t = System.nanoTime();
			pipeline.generate(request, steps);
			firstGeneration = since(t);
			firstByStage = firstGenerationByStage(calls);

			progress("warm-up generation (recording the session calls)");
			calls.capture = true;
			unetCallsBefore = pipeline.unetCalls();
			pipeline.generate(request, ProgressListener.NONE);
			callsPerGeneration = pipeline.unetCalls() - unetCallsBefore;
			calls.capture = false;
			recorded = new ArrayList<>(calls.calls);
			calls.calls.clear();

			List<RecordedCall.Prepared> prepared = new ArrayList<>();
			try {
				for (RecordedCall c : recorded) prepared.add(c.prepare());
				replay(prepared); // warm-up of the floor's own tensors
				floorUnetCalls.clear();
				steps.reset();
				for (int r = 0; r < o.runs; r++) {
					progress("run %d of %d", r + 1, o.runs);
					calls.clear();
					steps.startRun();
					t = System.nanoTime();
					pipeline.generate(request, steps);
					double g = since(t);
					generation.add(g);
					// after a full GC, outside the timed parts: direct buffers of closed tensors are freed only when
					// their Java objects are collected, and should not count as growth
					System.gc();
					rssAfterRun.add(MemoryStats.rss());
					text.add(calls.total("text_encoder") / 1e9);
					calls.of("unet").forEach(n -> unetCall.add(n / 1e9));
					unetTotal.add(calls.total("unet") / 1e9);
					decode.add(calls.total("vae_decoder") / 1e9);
					calls.of(CallRecorder.CONTROLNET).forEach(n -> controlNetCall.add(n / 1e9));
					if (!o.controlNets.isEmpty()) controlNetStep.add(calls.total(CallRecorder.CONTROLNET) / 1e9 / o.steps);
					double sessions = (calls.total("text_encoder") + calls.total("unet") + calls.total("vae_decoder")
						+ calls.total(CallRecorder.CONTROLNET)) / 1e9;
					other.add(g - sessions);
					floor.add(replay(prepared));
				}
			}
			finally {
				prepared.forEach(RecordedCall.Prepared::close);
			}
			peakGeneration = MemoryStats.peakRss();
			heapPeak = MemoryStats.heapPeak();
			sampler.close();

			List<Double> encode = new ArrayList<>(), firstEncode = new ArrayList<>();
			if (o.vaeEncode && model.vaeEncoder() != null) {
				progress("VAE encoder");
				var image = ArrayImgs.floats(width, height, 3);
				for (FloatType p : image) p.set(0.5f);
				for (int r = 0; r <= o.runs; r++) {
					calls.clear();
					pipeline.vaeRoundTrip(image);
					(r > 0 ? encode : firstEncode).add(calls.total("vae_encoder") / 1e9);
				}
			}

			report.add("ONNX Runtime start (native library)", runtimeStart);
			report.add("session load, cold (all components)", coldLoad);
			optimizerLines(report, optimizedBefore);
			report.add("model cache, second get (no reload)", cachedGet);
			report.add("first generation (after load)", firstGeneration);
			report.add("text encoding (per generation)", text);
			report.add("UNet call", unetCall);
			report.add("UNet step (call + sampler, steps 2..n)", steps.stepSeconds);
			report.add("UNet, all steps (per generation)", unetTotal);
			report.add("ControlNet call", controlNetCall);
			report.add("ControlNet per step (all ControlNets)", controlNetStep);
			report.add("VAE decode (per generation)", decode);
			report.add("VAE encode, first call", firstEncode);
			report.add("VAE encode (one image)", encode);
			report.add("outside the sessions (per generation)", other);
			report.add("generation (whole)", generation);
			report.add("ONNX floor (same calls, bare loop)", floor);
			report.add("ONNX floor: UNet call", floorUnetCalls);

			if (o.compareCfg && o.guidance > 1 && !info.lcm()) {
				compareCfg(recorded, pipeline.cfgMode(width, height) == CfgMode.SEPARATE);
			}
		}

		for (RecordedCall c : recorded) report.callsPerGeneration.merge(c.component.name(), 1, Integer::sum);
		report.unetCallsPerGeneration = callsPerGeneration;
		report.allocatedPerStep = steps.medianAllocation();
		long unetCallCount = recorded.stream().filter(c -> c.component == model.unet()).count();
		long unetBatch = recorded.stream().filter(c -> c.component == model.unet()).mapToLong(RecordedCall::batch)
			.findFirst().orElse(0);
		report.unetBatch = unetBatch;
		report.note("calls per generation: %d text encoder, %d UNet (batch %d), %d VAE decoder; %s",
			recorded.stream().filter(c -> c.component == model.textEncoder()).count(), unetCallCount, unetBatch,
			recorded.stream().filter(c -> c.component == model.vaeDecoder()).count(),
			o.guidance <= 1 ? "guidance ≤ 1: one UNet call per step, no unconditional pass"
				: info.lcm() ? "LCM: guidance through timestep_cond, one UNet call per step"
				: "CFG " + pipeline.cfgMode(width, height).name().toLowerCase(Locale.ROOT) + (o.cfgMode == CfgMode.AUTO
					? " (auto on " + info.provider() + ")" : "") + ": "
					+ (pipeline.cfgMode(width, height) == CfgMode.SEPARATE ? "two batch-" + unetBatch + " calls per step"
						: "one batch-" + unetBatch + " call per step"));
		if (!o.controlNets.isEmpty()) {
			report.note("ControlNet: %d ControlNet(s), %d calls per generation (one per ControlNet and UNet call)",
				o.controlNets.size(), recorded.stream().filter(c -> c.component.name().equals(CallRecorder.CONTROLNET))
					.count());
		}
		report.note("first generation by stage: %s", firstByStage);
		report.note("second generation reloaded sessions: %s (model cache get: %s)", reloaded ? "YES" : "no",
			BenchReport.time(cachedGet));
		report.note("Java heap allocated per step: %s median (calls, sampler, progress), latents are %s per image",
			kb(steps.medianAllocation()), kb(4L * 4 * (width / 8) * (height / 8)));
		long limit = (long) (1.5 * weights) + (1L << 30);
		report.note("memory: weights %s; RSS after load %s; peak RSS while generating %s%s (limit 1.5 × weights + 1 GB = %s: %s); "
			+ "Java heap peak %s of max %s, direct buffers %s",
			BenchReport.mb(weights), BenchReport.mb(rssAfterLoad), BenchReport.mb(peakGeneration),
			peakReset ? "" : " (VmHWM since process start)", BenchReport.mb(limit),
			peakGeneration < 0 ? "n/a" : peakGeneration <= limit ? "within" : "OVER", BenchReport.mb(heapPeak),
			BenchReport.mb(MemoryStats.heapMax()), BenchReport.mb(MemoryStats.direct()));
		if (sampler.maxAnon >= 0) {
			report.note("resident memory while generating, sampled every 25 ms: anonymous (ONNX Runtime, Java) up to %s, "
				+ "file-backed (memory-mapped weights, libraries; reclaimable) up to %s", BenchReport.mb(sampler.maxAnon),
				BenchReport.mb(sampler.maxFile));
		}
		if (rssAfterRun.size() >= 2) {
			int n = rssAfterRun.size(), mid = (n + 1) / 2;
			StringBuilder points = new StringBuilder();
			for (int q = 0; q <= 4; q++) {
				int run = Math.max(1, (int) Math.round(q * n / 4.0));
				if (q > 0 && run == Math.max(1, (int) Math.round((q - 1) * n / 4.0))) continue;
				points.append(points.length() == 0 ? "" : ", ").append("run ").append(run).append(": ")
					.append(BenchReport.mb(rssAfterRun.get(run - 1)));
			}
			report.note("RSS after a full GC, after timed %s (change over the second half %+.1f MB)", points,
				(rssAfterRun.get(n - 1) - rssAfterRun.get(mid - 1)) / 1048576.0);
		}

		Device provider = Device.parse(info.provider());
		Path folder = model.folder();
		cache.release(); // session comparisons below load the UNet again: not with the model still open
		sessionLoads(folder, provider, recorded, model);

		List<Double> outsideShare = new ArrayList<>();
		for (int i = 0; i < generation.size(); i++) outsideShare.add(other.get(i) / generation.get(i));
		report.note("time outside the session calls: %.1f %% of a generation (median over runs; pipeline work that a "
			+ "busy machine does not inflate the way it inflates the session calls)", 100 * BenchReport.median(outsideShare));
		report.note("overhead by best runs (min generation / min floor, less sensitive to a busy machine): %.3f",
			report.row("generation (whole)").min() / report.row("ONNX floor (same calls, bare loop)").min());
		report.note("load average at the end: %s", loadAverage());
		report.overhead = BenchReport.median(generation) / BenchReport.median(floor);
		return report;
	}

	/** The first generation's session calls by component (what makes it slower than the later ones). */
	private static String firstGenerationByStage(CallRecorder calls) {
		List<Double> unet = new ArrayList<>();
		calls.of("unet").forEach(n -> unet.add(n / 1e9));
		String unetCalls = unet.isEmpty() ? "no UNet call" : String.format(Locale.ROOT,
			"UNet %s in %d calls (first %s, median of the others %s)", BenchReport.time(calls.total("unet") / 1e9),
			unet.size(), BenchReport.time(unet.get(0)),
			unet.size() > 1 ? BenchReport.time(BenchReport.median(unet.subList(1, unet.size()))) : "-");
		return String.format(Locale.ROOT, "text encoder %s, %s, VAE decoder %s",
			BenchReport.time(calls.total("text_encoder") / 1e9), unetCalls, BenchReport.time(calls.total("vae_decoder") / 1e9));
	}

	/** The floor's UNet calls, one value per call (to set beside the pipeline's). */
	private final List<Double> floorUnetCalls = new ArrayList<>();

	/** The floor: every recorded call once, in order, with its pre-built tensors. Seconds. */
	private double replay(List<RecordedCall.Prepared> prepared) throws OrtException {
		long start = System.nanoTime(), t = start;
		for (RecordedCall.Prepared p : prepared) {
			p.run();
			long now = System.nanoTime();
			if (p.call.component.name().equals("unet")) floorUnetCalls.add((now - t) / 1e9);
			t = now;
		}
		return (t - start) / 1e9;
	}

	/** One batch-2 UNet call against two batch-1 calls (the unconditional and the conditional half), alternating. */
	private void compareCfg(List<RecordedCall> recorded, boolean separateCalls) throws OrtException {
		List<RecordedCall> unetCalls = recorded.stream().filter(c -> c.component.name().equals("unet")).toList();
		// batched: the second step's batch-2 call; separate: the second step's two batch-1 calls joined
		RecordedCall unet = !separateCalls && unetCalls.size() >= 2 ? unetCalls.get(1)
			: separateCalls && unetCalls.size() >= 4 ? RecordedCall.concat(unetCalls.get(2), unetCalls.get(3)) : null;
		if (unet == null || unet.batch() != 2) return;
		progress("CFG: one batch-2 UNet call vs two batch-1 calls");
		List<Double> batched = new ArrayList<>(), separate = new ArrayList<>();
		try (RecordedCall.Prepared both = unet.prepare(); RecordedCall.Prepared uncond = unet.slice(0, 1).prepare();
			RecordedCall.Prepared cond = unet.slice(1, 1).prepare())
		{
			both.run();
			uncond.run();
			cond.run();
			for (int r = 0; r < Math.max(2, o.runs); r++) {
				long t = System.nanoTime();
				both.run();
				batched.add(since(t));
				t = System.nanoTime();
				uncond.run();
				cond.run();
				separate.add(since(t));
			}
		}
		report.add("CFG step as one batch-2 UNet call", batched);
		report.add("CFG step as two batch-1 UNet calls", separate);
		double b = BenchReport.median(batched), s = BenchReport.median(separate);
		report.note("CFG: batch-2 call %s vs two batch-1 calls %s per step: %s is faster by %.1f %%", BenchReport.time(b),
			BenchReport.time(s), b <= s ? "batch-2" : "two batch-1", 100 * Math.abs(b - s) / Math.max(b, s));
	}

	/**
	 * UNet session creation at the configured level and the levels asked for, each with the time of a warm UNet call
	 * on that session; and an optimised-model file written once and loaded with optimisations off.
	 */
	private void sessionLoads(Path folder, Device device, List<RecordedCall> recorded, StableDiffusionModel closed)
		throws OrtException
	{
		if (o.optLevels.isEmpty() && !o.optimizedCache) return;
		Path unetFile = folder.resolve("unet/model.onnx");
		RecordedCall call = recorded.stream().filter(c -> c.component == closed.unet()).skip(1).findFirst().orElse(null);
		for (OptLevel level : o.optLevels) {
			progress("UNet session at %s", level);
			try (SessionOptions options = ExecutionProviders.sessionOptions(o.runtime.withOptLevel(level), device,
				SessionMemory.ARENA)) {
				timeSession("UNet session create, " + name(level), "UNet call, " + name(level), unetFile, options, call);
			}
		}
		if (o.optimizedCache) {
			OptLevel level = o.runtime.optLevel();
			Path dir = null;
			try {
				dir = Files.createTempDirectory("sd-optimized");
				Path optimized = dir.resolve("model.onnx");
				progress("UNet optimised-model file (%s)", level);
				try (SessionOptions options = ExecutionProviders.sessionOptions(o.runtime.withOptLevel(level), device,
				SessionMemory.ARENA)) {
					options.setOptimizedModelFilePath(optimized.toString());
					// the UNet's weights exceed protobuf's 2 GB: they go to one external file beside it
					options.addConfigEntry("session.optimized_model_external_initializers_file_name", "model.onnx.data");
					options.addConfigEntry("session.optimized_model_external_initializers_min_size_in_bytes", "1024");
					timeSession("UNet session create + write optimised file, " + name(level), null, unetFile, options, null);
				}
				try (SessionOptions options = ExecutionProviders.sessionOptions(o.runtime.withOptLevel(OptLevel.NO_OPT),
					device, SessionMemory.ARENA)) {
					timeSession("UNet session from optimised file (opt. off)", "UNet call, from optimised file", optimized,
						options, call);
				}
			}
			catch (IOException e) {
				report.note("optimised-model file: not measured (%s)", e.getMessage());
			}
			finally {
				if (dir != null) deleteTree(dir);
			}
		}
	}

	private void timeSession(String createRow, String callRow, Path file, SessionOptions options, RecordedCall call)
		throws OrtException
	{
		long t = System.nanoTime();
		try (OrtSession session = OnnxEnvironment.get().createSession(file.toString(), options)) {
			report.add(createRow, since(t));
			if (call == null || callRow == null) return;
			List<Double> times = new ArrayList<>();
			try (RecordedCall.Prepared p = call.prepare()) {
				p.run(session); // first run: allocations
				for (int r = 0; r < Math.max(2, Math.min(o.runs, 5)); r++) {
					t = System.nanoTime();
					p.run(session);
					times.add(since(t));
				}
			}
			report.add(callRow, times);
		}
	}

	private static String name(OptLevel level) {
		return level.name().replace("_OPT", "");
	}

	/** Bytes of the ONNX components' files (graphs and external weights), tokenizer and configs excluded. */
	static long weightBytes(Path folder) {
		long sum = 0;
		for (String c : new String[] { "text_encoder", "unet", "vae_encoder", "vae_decoder" }) {
			Path dir = folder.resolve(c);
			if (!Files.isDirectory(dir)) continue;
			try (Stream<Path> files = Files.list(dir)) {
				for (Path p : (Iterable<Path>) files::iterator) {
					if (Files.isRegularFile(p) && !p.getFileName().toString().endsWith(".json")) sum += Files.size(p);
				}
			}
			catch (IOException e) {
				// unreadable: not counted
			}
		}
		return sum;
	}

	private static void deleteTree(Path dir) {
		try (Stream<Path> files = Files.walk(dir)) {
			files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
		}
		catch (IOException e) {
			// temporary files; the OS cleans up
		}
	}

	/** "1.02 0.87 0.65" from /proc/loadavg, or "n/a". */
	static String loadAverage() {
		try {
			String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
			return f[0] + " " + f[1] + " " + f[2];
		}
		catch (IOException | RuntimeException e) {
			return "n/a";
		}
	}

	private static double since(long start) {
		return (System.nanoTime() - start) / 1e9;
	}

	private static String kb(long bytes) {
		return bytes < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f KB", bytes / 1024.0);
	}

	/** Times the steps of the timed runs (from one finished step to the next) and the heap allocated in between. */
	private static final class StepTimer implements ProgressListener {
		final List<Double> stepSeconds = new ArrayList<>();
		final List<Long> allocated = new ArrayList<>();
		private long last = -1, lastAllocated;

		void reset() {
			stepSeconds.clear();
			allocated.clear();
			last = -1;
		}

		void startRun() {
			last = -1;
		}

		@Override
		public void stepFinished(StepProgress p) {
			long now = System.nanoTime(), bytes = MemoryStats.threadAllocated();
			if (last >= 0 && p.step() > 1) {
				stepSeconds.add((now - last) / 1e9);
				if (bytes >= 0) allocated.add(bytes - lastAllocated);
			}
			last = now;
			lastAllocated = bytes;
		}

		long medianAllocation() {
			if (allocated.isEmpty()) return -1;
			List<Long> sorted = new ArrayList<>(allocated);
			sorted.sort(null);
			return sorted.get(sorted.size() / 2);
		}
	}
}
