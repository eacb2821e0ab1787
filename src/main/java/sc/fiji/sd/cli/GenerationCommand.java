package sc.fiji.sd.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import sc.fiji.sd.lora.EmbeddingSet;
import sc.fiji.sd.lora.LoraSet;
import sc.fiji.sd.lora.LoraSpec;
import sc.fiji.sd.model.ModelProvider;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.GeneratedImage;
import sc.fiji.sd.pipeline.GenerationResult;
import sc.fiji.sd.pipeline.ProgressListener;
import sc.fiji.sd.pipeline.StableDiffusionPipeline;
import sc.fiji.sd.pipeline.StepProgress;
import sc.fiji.sd.provenance.Provenance;

/**
 * What txt2img, img2img and inpaint share: the generation options, loading the model, running with a progress bar,
 * and writing the PNGs as they finish, renamed into place only when the whole run succeeded ({@link OutputSet}), so an
 * error never leaves a partial output.
 */
abstract class GenerationCommand implements Callable<Integer> {

	/** Images in one run (one output file each). */
	static final int MAX_IMAGES = 100_000;

	@Spec
	CommandSpec spec;

	/** The run, which owns the model provider. */
	@CommandLine.ParentCommand
	Main main;

	@Mixin
	VerboseOption verbose;

	@Option(names = "--prompt", required = true, description = "What to draw (AUTOMATIC1111 syntax: (word:1.2), [word], BREAK).")
	String prompt;

	@Option(names = "--negative", defaultValue = "", description = "What to avoid.")
	String negative;

	@Option(names = "--steps", defaultValue = "20", description = "Denoising steps (default: ${DEFAULT-VALUE}).")
	int steps;

	@Option(names = "--guidance", defaultValue = "7", description = "CFG scale; at or below 1 no negative pass runs (Turbo/LCM) (default: ${DEFAULT-VALUE}).")
	double guidance;

	@Option(names = "--seed", defaultValue = "-1", description = "Seed; -1 draws a random one, which is printed (default: ${DEFAULT-VALUE}).")
	long seed;

	@Option(names = "--variation-seed", defaultValue = "-1", description = "A1111's variation seed: its noise is blended into the seed's; -1 draws one (default: ${DEFAULT-VALUE}).")
	long variationSeed;

	@Option(names = "--variation-strength", defaultValue = "0", description = "How much of the variation seed's noise, 0 (none) … 1 (all) (default: ${DEFAULT-VALUE}).")
	double variationStrength;

	@Option(names = "--width", defaultValue = "0", description = "Width in pixels, a multiple of the model's size step (default: the model's native size or the image's).")
	int width;

	@Option(names = "--height", defaultValue = "0", description = "Height in pixels (default: the model's native size or the image's).")
	int height;

	@Option(names = "--scheduler", completionCandidates = SamplerNames.class, description = "Sampler, AUTOMATIC1111 name: ${COMPLETION-CANDIDATES} (default: the model's).")
	String scheduler;

	@Option(names = "--batch", defaultValue = "1", description = "Images per batch (default: ${DEFAULT-VALUE}).")
	int batch;

	@Option(names = "--batch-count", defaultValue = "1", description = "Batches run one after the other (default: ${DEFAULT-VALUE}).")
	int batchCount;

	@Mixin
	ModelOptions modelOptions;

	@Mixin
	LoraOptions loraOptions = new LoraOptions();

	@ArgGroup(exclusive = false, multiplicity = "0..*", heading = "ControlNet (repeat the group for several):%n")
	List<ControlNetOptions> controlNets = new ArrayList<>();

	@Mixin
	RefinerOptions refinerOptions = new RefinerOptions();
	@Mixin
	DecoderOptions decoderOptions = new DecoderOptions();

	@Option(names = "--output", defaultValue = "output.png", paramLabel = "FILE.png", description = "Output PNG; several images become FILE-1.png, FILE-2.png… (default: ${DEFAULT-VALUE}).")
	Path output;

	abstract GenerationRequest.Mode mode();

	/** The parameters text written for an image; a command adds its own entries here (outpaint: its sides). */
	String parameters(GeneratedImage image) {
		return image.parameters();
	}

	/** Reads the images and adds mode-specific options; called before the model loads, so bad files fail fast. */
	abstract GenerationRequest.Builder prepare(GenerationRequest.Builder builder);

	@Override
	public Integer call() {
		modelOptions.device(); // checked before any file work
		Path outDir = output.toAbsolutePath().getParent();
		if (outDir != null && !Files.isDirectory(outDir)) {
			throw new Main.UsageException("The output folder " + outDir + " does not exist.");
		}
		GenerationRequest request = prepare(SettingOptions.apply(spec, refinerOptions.apply(GenerationRequest.builder().mode(mode()).prompt(prompt)
			.negativePrompt(negative).steps(steps).guidance(guidance).seed(seed).size(width, height)
			.variationSeed(variationSeed).variationStrength(variationStrength).scheduler(scheduler).batchSize(batch).batchCount(batchCount))))
			.controls(ControlNetOptions.read(controlNets, modelOptions::folder)).build();
		try {
			request.validate(); // every option checked before the model loads: a bad value is a usage error
		}
		catch (sc.fiji.sd.StableDiffusionException e) {
			throw new Main.UsageException(e.getMessage());
		}

		long count = (long) batch * batchCount;
		if (count > MAX_IMAGES) {
			throw new Main.UsageException("--batch × --batch-count is " + count + " images; at most " + MAX_IMAGES
				+ " in one run.");
		}
		OutputSet outputs;
		try {
			outputs = new OutputSet(outputFiles(output, (int) count)); // a .png name, never a device or a folder
		}
		catch (sc.fiji.sd.StableDiffusionException e) {
			throw new Main.UsageException(e.getMessage());
		}

		PrintWriter err = spec.commandLine().getErr();
		PrintWriter out = spec.commandLine().getOut();
		Path folder = modelOptions.folder();
		LoraSpec loras = loraOptions.spec(prompt);
		decoderOptions.check();
		StableDiffusionModel sd = main.models().get(new ModelProvider.Key(folder, modelOptions.runtimeOptions(), loras,
			loraOptions.embeddings(), ControlNetOptions.folders(controlNets)));
		request = ControlNetOptions.preprocessed(controlNets, request, sd.info().nativeSize(), err::println);
		LoraSet loraSet = sd.initializerOverrides().part(LoraSet.class);
		if (loraSet != null) loraSet.warnings().forEach(err::println);
		EmbeddingSet embeddings = sd.initializerOverrides().part(EmbeddingSet.class);
		// the words the prompts use, checked before the first step (a refused one fails here, not mid-run)
		String tiHashes;
		try {
			tiHashes = embeddings == null ? null : embeddings.hashesFor(sd.tokenizer(), prompt, negative);
		}
		catch (sc.fiji.sd.StableDiffusionException e) {
			throw new Main.UsageException(e.getMessage());
		}
		if (verbose.verbose) {
			if (embeddings != null) err.println("Embeddings: " + embeddings + (embeddings.refused().isEmpty() ? ""
				: "; not usable: " + String.join(", ", embeddings.refused().keySet())));
			err.print(sd.info().describe());
			err.printf(Locale.ROOT, "Sessions created in %.1f s%n", sd.loadSeconds());
		}
		StableDiffusionPipeline pipeline = new StableDiffusionPipeline(sd);
		refinerOptions.attach(main.models(), modelOptions.runtimeOptions(), pipeline);
		decoderOptions.apply(sd, pipeline);
		List<Path> files;
		GenerationResult result;
		ProgressBar bar = new ProgressBar(err, System.console() != null);
		List<Long> seeds = new ArrayList<>();
		String loraHashes = loras.isEmpty() ? null : LoraSet.hashes(loras); // once: each hash reads a whole LoRA file
		try (Interrupt interrupt = new Interrupt(); OutputSet set = outputs.open()) {
			bar.cancel = interrupt::requested; // Ctrl-C: stop now, write the last finished image
			// Each image is written as it finishes (to a temporary name): memory holds one batch, not the run.
			result = generate(pipeline, request, bar, image -> {
				set.write(seeds.size(), image,
					Provenance.pngText(EmbeddingSet.withHashes(LoraSet.withHashes(parameters(image), loraHashes), tiHashes),
						sd.info().name()));
				seeds.add(image.seed());
			});
			if (result.interrupted()) err.println("Interrupted: kept the image(s) of the last finished step.");
			files = set.commit(seeds.size());
		}
		for (int i = 0; i < files.size(); i++) out.println("Wrote " + files.get(i) + " (seed " + seeds.get(i) + ")");
		if (verbose.verbose) {
			err.printf(Locale.ROOT, "%d image(s) in %.1f s, %d UNet calls (%.2f s per step), on %s%n", files.size(),
				result.seconds(), pipeline.unetCalls(), bar.lastSecondsPerStep, sd.info().provider());
		}
		out.flush();
		err.flush();
		return result.interrupted() ? Interrupt.EXIT_CODE : Main.EXIT_OK;
	}

	/** Runs the generation; text to image adds the hires fix here. */
	GenerationResult generate(StableDiffusionPipeline pipeline, GenerationRequest request, ProgressListener progress,
		Consumer<GeneratedImage> sink)
	{
		return pipeline.generate(request, progress, sink);
	}

	/** {@code out.png} for one image; {@code out-1.png, out-2.png, …} for several. */
	static List<Path> outputFiles(Path output, int count) {
		List<Path> files = new ArrayList<>();
		if (count == 1) {
			files.add(output);
			return files;
		}
		String name = output.getFileName().toString();
		String base = name.toLowerCase(Locale.ROOT).endsWith(".png") ? name.substring(0, name.length() - 4) : name;
		for (int i = 1; i <= count; i++) files.add(output.resolveSibling(base + "-" + i + ".png"));
		return files;
	}

	/** A one-line progress bar on stderr, redrawn in place; only on an interactive terminal. */
	static final class ProgressBar implements ProgressListener {
		private final PrintWriter err;
		private final boolean interactive;
		double lastSecondsPerStep;
		java.util.function.BooleanSupplier cancel = () -> false;

		ProgressBar(PrintWriter err, boolean interactive) {
			this.err = err;
			this.interactive = interactive;
		}

		@Override
		public void stepFinished(StepProgress p) {
			lastSecondsPerStep = p.secondsPerStep();
			if (!interactive) return;
			err.print("\r" + line(p));
			if (p.step() == p.steps()) err.println();
			err.flush();
		}

		@Override
		public boolean isCanceled() {
			return cancel.getAsBoolean();
		}

		static String line(StepProgress p) {
			int width = 30, filled = p.steps() == 0 ? width : p.step() * width / p.steps();
			return String.format(Locale.ROOT, "image %d/%d [%s%s] step %d/%d  %.2f s/step", p.image() + 1, p.images(),
				"#".repeat(filled), ".".repeat(width - filled), p.step(), p.steps(), p.secondsPerStep());
		}
	}
}
