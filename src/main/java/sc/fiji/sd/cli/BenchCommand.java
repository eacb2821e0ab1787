package sc.fiji.sd.cli;

import sc.fiji.sd.bench.Soak;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.StableDiffusionPipeline;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import sc.fiji.sd.bench.BenchReport;
import sc.fiji.sd.bench.ConfigComparison;
import sc.fiji.sd.bench.Benchmark;
import sc.fiji.sd.image.ImageFiles;
import sc.fiji.sd.onnx.ExecutionProviders;
import sc.fiji.sd.onnx.ModelOptimizer;
import sc.fiji.sd.onnx.RuntimeOptions;

/** {@code bench}: per-stage timings, memory and the overhead over ONNX Runtime; see {@link Benchmark} and PERFORMANCE.md. */
@Command(name = "bench", description = { "Measure a text-to-image generation: per-stage medians, memory, and the ONNX floor "
	+ "(the same session calls in a bare loop).", "The last line is 'overhead: X.XXX' = median generation / median floor." })
class BenchCommand implements Callable<Integer> {

	@Spec
	CommandSpec spec;

	/** The run, which owns the model provider. */
	@CommandLine.ParentCommand
	Main main;

	@Mixin
	VerboseOption verbose;

	@Mixin
	ModelOptions modelOptions;

	@Option(names = "--steps", defaultValue = "20", description = "Denoising steps (default: ${DEFAULT-VALUE}).")
	int steps;

	@Option(names = "--width", defaultValue = "0", description = "Width (default: the model's native size).")
	int width;

	@Option(names = "--height", defaultValue = "0", description = "Height (default: the model's native size).")
	int height;

	@Option(names = "--guidance", defaultValue = "7", description = "CFG scale; ≤ 1 runs no unconditional pass (default: ${DEFAULT-VALUE}).")
	double guidance;

	@Option(names = "--runs", defaultValue = "5", description = "Timed generations after the warm-up (default: ${DEFAULT-VALUE}).")
	int runs;

	@Option(names = "--scheduler", completionCandidates = SamplerNames.class, description = "Sampler (A1111 name: ${COMPLETION-CANDIDATES}; default: the model's).")
	String scheduler;

	@Option(names = "--prompt", defaultValue = "a red circle on a blue background", description = "Prompt (default: ${DEFAULT-VALUE}).")
	String prompt;

	@Option(names = "--opt-level", description = "Graph optimisation level for the model's sessions: none, basic, extended, all for every session (default: the per-component defaults: all through an optimised-model file cached on the first load; the UNet and text encoder at basic where no file can be kept).")
	String optLevel;

	@Option(names = "--compare-opt-levels", split = ",", paramLabel = "LEVEL", description = "Also time UNet session creation and a UNet call at these levels, e.g. basic,extended,all.")
	List<String> compareLevels = new ArrayList<>();

	@Option(names = "--optimized-cache", description = "Also time writing an optimised UNet model file and loading it with optimisations off.")
	boolean optimizedCache;

	@Option(names = "--cfg", defaultValue = "auto", description = "How CFG runs the UNet: auto, batched (one batch-2 call per step) or separate (two batch-1 calls) (default: ${DEFAULT-VALUE}).")
	String cfg;

	@Option(names = "--no-cfg-compare", negatable = false, description = "Skip the batch-2 vs two batch-1 UNet call comparison.")
	boolean noCfgCompare;

	@Option(names = "--compare-configs", description = "Instead of one generation: every component under the ONNX Runtime "
		+ "configurations that matter (graph optimisation, arena and memory pattern, CFG batched or as two calls, threads), "
		+ "one child process per configuration, --runs rounds alternating them, and our generation over the best floor.")
	boolean compareConfigs;

	@Option(names = "--configs", split = ",", paramLabel = "NAME", description = "With --compare-configs: only these "
		+ "configurations (ours, basic-noarena, extended, all, ours-keep, all-keep, sd4j, ours-1thread, pipeline).")
	List<String> configs = new ArrayList<>();

	@Option(names = "--calls", defaultValue = "2", description = "With --compare-configs: timed calls per stage in each "
		+ "child, after a first call (default: ${DEFAULT-VALUE}).")
	int calls;

	@Option(names = "--optimize-in-process", description = "A first load that writes optimised-model files optimises "
		+ "inside the measured process, as before 2026-12-05 (its load and peak then include the optimiser, comparable "
		+ "with earlier rounds); default: in a separate process, whose time and peak are reported on their own.")
	boolean optimizeInProcess;

	@Option(names = "--profile", description = "With --compare-configs: profile each configuration's VAE decoder with "
		+ "ONNX Runtime's profiler and report where a decode's time goes, by operator.")
	boolean profile;

	@Option(names = "--controlnet", paramLabel = "DIR", description = "Also run this ControlNet (OnnxStack's layout; "
		+ "the model needs controlnet/model.onnx) and report its cost per step; repeat for several.")
	List<Path> controlNets = new ArrayList<>();

	@Option(names = "--control", paramLabel = "IMAGE", description = "Control image for every --controlnet (default: a "
		+ "white disc on black at the output size).")
	Path control;

	@Option(names = "--soak", paramLabel = "N", description = "Instead of timing: N generations in this process, reporting "
		+ "resident memory, open files and threads at the start, middle and end, and their slope per 100 generations.")
	int soak;

	@Option(names = "--decoder", paramLabel = "DIR", description = "Instead of a generation: time a tiny decoder "
		+ "(TAESD layout) against the model's VAE decoder at --width x --height, --runs times each.")
	java.nio.file.Path decoder;

	@Option(names = "--psnr", paramLabel = "N", defaultValue = "0", description = "With --decoder: also the PSNR of "
		+ "its images against the VAE decoder's, on the final latents of N generations of --steps steps.")
	int psnr;

	@Override
	public Integer call() {
		if (soak != 0) return soak();
		if (decoder != null) return tinyDecoder();
		if (runs < 1) throw new Main.UsageException("--runs must be at least 1.");
		if (steps < 1) throw new Main.UsageException("--steps must be at least 1.");
		if (compareConfigs) return compareConfigs();
		if (optimizeInProcess) System.setProperty(ModelOptimizer.PLACEMENT, "in-process");
		Benchmark.Options o = new Benchmark.Options();
		o.model = modelOptions.folder();
		o.device = modelOptions.device();
		o.steps = steps;
		o.width = width;
		o.height = height;
		o.guidance = guidance;
		o.runs = runs;
		o.scheduler = scheduler;
		o.prompt = prompt;
		o.compareCfg = !noCfgCompare;
		o.cfgMode = sc.fiji.sd.onnx.CfgMode.parse(cfg);
		o.optimizedCache = optimizedCache;
		for (String level : compareLevels) o.optLevels.add(ExecutionProviders.parseOptLevel(level));
		o.controlNets = controlNets;
		if (control != null) {
			try {
				o.controlImage = ImageFiles.readRgb(control);
			}
			catch (sc.fiji.sd.StableDiffusionException e) {
				throw new Main.UsageException(e.getMessage());
			}
		}
		o.runtime = RuntimeOptions.fromSystemProperties();
		if (optLevel != null) o.runtime = o.runtime.withOptLevel(ExecutionProviders.parseOptLevel(optLevel));
		BenchReport report = Benchmark.run(o, spec.commandLine().getErr());
		var out = spec.commandLine().getOut();
		out.println(report.format());
		out.flush();
		return Main.EXIT_OK;
	}

	private int compareConfigs() {
		if (calls < 1) throw new Main.UsageException("--calls must be at least 1.");
		ConfigComparison.Options o = new ConfigComparison.Options();
		o.model = modelOptions.folder();
		o.width = width;
		o.height = height;
		o.steps = steps;
		o.guidance = guidance;
		o.rounds = runs;
		o.calls = calls;
		o.profile = profile;
		o.optimizeInProcess = optimizeInProcess;
		try {
			o.only = ConfigComparison.parseNames(configs);
		}
		catch (IllegalArgumentException e) {
			throw new Main.UsageException(e.getMessage());
		}
		ConfigComparison.Result result = ConfigComparison.run(o, spec.commandLine().getErr());
		var out = spec.commandLine().getOut();
		out.println(result.format());
		out.flush();
		return Main.EXIT_OK;
	}

	private int tinyDecoder() {
		if (runs < 1) throw new Main.UsageException("--runs must be at least 1.");
		try {
			sc.fiji.sd.model.TinyDecoder.file(decoder);
		}
		catch (sc.fiji.sd.StableDiffusionException e) {
			throw new Main.UsageException("--decoder " + decoder + ": " + e.getMessage());
		}
		StableDiffusionModel model = main.models().get(modelOptions.folder(), modelOptions.device());
		int w = width > 0 ? width : model.info().nativeSize(), h = height > 0 ? height : model.info().nativeSize();
		var out = spec.commandLine().getOut();
		out.println(sc.fiji.sd.bench.TinyDecoderBench.run(model, model.tinyDecoder(decoder), w, h, runs, psnr, steps,
			spec.commandLine().getErr()));
		out.flush();
		return Main.EXIT_OK;
	}

	private int soak() {
		if (soak < 2) throw new Main.UsageException("--soak needs at least 2 generations.");
		GenerationRequest request = GenerationRequest.builder().prompt(prompt).steps(steps).guidance(guidance)
			.size(width, height).scheduler(scheduler).build();
		try {
			request.validate();
		}
		catch (sc.fiji.sd.StableDiffusionException e) {
			throw new Main.UsageException(e.getMessage());
		}
		StableDiffusionModel model = main.models().get(modelOptions.folder(), modelOptions.device());
		Soak.Report report = Soak.run(new StableDiffusionPipeline(model), request, soak, spec.commandLine().getErr());
		var out = spec.commandLine().getOut();
		out.println(report.format());
		out.flush();
		return Main.EXIT_OK;
	}
}
