package sc.fiji.sd.imagej;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.hub.ModelLocator;
import sc.fiji.sd.lora.EmbeddingSet;
import sc.fiji.sd.lora.EmbeddingSpec;
import sc.fiji.sd.lora.LoraFolder;
import sc.fiji.sd.lora.LoraSpec;
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.model.ModelProvider;
import sc.fiji.sd.onnx.ExecutionProviders;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.RuntimeOptions;
import sc.fiji.sd.provenance.PngWriter;
import sc.fiji.sd.scheduler.Schedulers;
import sc.fiji.sd.text.ExtraNetworks;

/**
 * How the ImageJ front ends get a loaded model from their {@link ModelProvider} (the Fiji service's, or plain ImageJ
 * 1.x's {@link ImageJModels}), and the sampler and device names they offer.
 */
public final class Generators {

	/** The drop-down entry that keeps the model's own scheduler (recorded as {@code scheduler=default}). */
	public static final String DEFAULT_SCHEDULER = "default";

	/** The device entry that keeps the device chosen in Settings (recorded as {@code device=default}). */
	public static final String DEFAULT_DEVICE = "default";

	/** Choices for a command's device drop-down: {@link #DEFAULT_DEVICE}, then {@link Settings#DEVICES}. */
	public static final String[] DEVICE_CHOICES = { DEFAULT_DEVICE, "auto", "cpu", "cuda" };

	private Generators() {}

	/**
	 * The settings one run uses: the saved ones, with the run's own model folder and device where it names them
	 * ({@code model=} and {@code device=} in a macro), so a recorded line that names its model replays the same on a
	 * machine whose settings point elsewhere.
	 */
	public static Settings forRun(Settings saved, Parameters p) {
		String model = p.model == null ? "" : p.model.trim();
		if (!model.isEmpty()) {
			Path folder = ModelLocator.resolve(model, ModelDownloads.environment.get()).orElse(Path.of(model));
			if (!Files.isDirectory(folder) || !Files.isReadable(folder))
				throw new StableDiffusionException("The model folder " + folder + " (model=) does not exist or cannot "
					+ "be read. Give an ONNX model folder (with model_index.json), or leave the model empty to use the "
					+ "one chosen in Plugins › Stable Diffusion › Stable Diffusion Settings....");
		}
		String device = p.device == null || p.device.isBlank() || p.device.trim().equals(DEFAULT_DEVICE)
			? saved.device() : p.device;
		return new Settings(model.isEmpty() ? saved.modelFolder() : model, device, saved.threads(), saved.loraFolder(),
			saved.embeddingsFolder());
	}

	/** The provider's key for the settings: folder (the shipped model when none), device, threads, embeddings. */
	public static ModelProvider.Key key(Settings settings) {
		return key(settings, null);
	}

	/**
	 * The provider's key for one run: the settings' model, device and threads, the LoRAs the run's prompt names in
	 * {@code <lora:name:weight>} tags (found in the settings' LoRA folder), the settings' embeddings, and the run's
	 * ControlNet ({@link ControlImages#model}) when it asks for one, whose session opens with the model (then its UNet
	 * is the one that takes the ControlNet's residuals). {@code run} null: none of the run's.
	 */
	static ModelProvider.Key key(Settings settings, Parameters run) {
		Path folder = settings.embeddedModel() ? EmbeddedModel.path() : settings.modelPath(null);
		String prompt = run == null || run.prompt == null ? "" : run.prompt;
		List<LoraSpec.Entry> loras = ExtraNetworks.loras(prompt).isEmpty() ? List.of()
			: LoraFolder.fromPrompt(prompt, settings.loraPath());
		List<Path> controlNets = run != null && ControlImages.requested(run) ? List.of(ControlImages.model(run, folder))
			: List.of();
		return new ModelProvider.Key(folder, RuntimeOptions.fromSystemProperties().withDevice(Device.parse(settings
			.device())).withThreads(settings.threads()), new LoraSpec(loras), EmbeddingSpec.ofFolder(settings
			.embeddingsPath()), controlNets);
	}

	/**
	 * Opens (or takes from {@code models}) the model the settings name; another model, device or thread count
	 * releases the previous one first.
	 */
	public static ImageGenerator open(ModelProvider models, Settings settings) {
		return open(models, settings, null);
	}

	/**
	 * {@link #open(ModelProvider, Settings)} for one run: with the LoRAs its prompt asks for, the settings' embeddings
	 * and the ControlNet it asks for ({@code run} null: none); another set loads the model anew. With the SDXL refiner
	 * the run names ({@link Parameters#refiner}), loaded beside the model on the same device; without one, a refiner
	 * held from an earlier run is released.
	 */
	public static ImageGenerator open(ModelProvider models, Settings settings, Parameters run) {
		ModelProvider.Key key = key(settings, run);
		String refiner = run == null || run.refiner == null ? "" : run.refiner.trim();
		if (refiner.isEmpty()) {
			models.releaseRefiner();
			return new PipelineGenerator(models.get(key));
		}
		Path folder = ModelLocator.resolve(refiner, ModelDownloads.environment.get()).orElse(Path.of(refiner));
		if (!Files.isDirectory(folder)) {
			throw new StableDiffusionException("The refiner folder " + folder + " (refiner=) does not exist. Give the "
				+ "SDXL refiner's ONNX folder, or leave it empty for no refiner.");
		}
		return new PipelineGenerator(models.get(key), models.refiner(new ModelProvider.Key(folder, key.options())));
	}

	/** Choices for the scheduler drop-down: {@link #DEFAULT_SCHEDULER}, then the core's sampler names. */
	public static List<String> schedulerChoices() {
		List<String> choices = new ArrayList<>();
		choices.add(DEFAULT_SCHEDULER);
		choices.addAll(Schedulers.names());
		return choices;
	}

	/** Maps a drop-down choice to the request's scheduler name (null: the model's own). */
	public static String schedulerForRequest(String choice) {
		return choice == null || choice.isBlank() || choice.equals(DEFAULT_SCHEDULER) ? null : choice;
	}

	/** Writes an RGB image as PNG with text chunks (the provenance layer's writer). */
	public static void writePng(Path path, RandomAccessibleInterval<FloatType> rgb, Map<String, String> textChunks) {
		PngWriter.write(path, rgb, textChunks);
	}

	/**
	 * Text about the settings, the model (loading it into {@code models}), the ONNX Runtime providers and why CUDA is
	 * or is not used; a model that cannot be loaded is reported in the text, not thrown.
	 */
	public static String describe(ModelProvider models, Settings settings) {
		StringBuilder sb = new StringBuilder();
		sb.append("Model folder: ").append(settings.embeddedModel() ? "(the model shipped with the plugin)"
			: settings.modelFolder()).append("\nDevice: ").append(settings.device()).append("\nThreads: ")
			.append(settings.threads() == 0 ? "automatic (all processors)" : settings.threads())
			.append("\nLoRA folder: ").append(settings.loraFolder().isEmpty() ? "(none)" : settings.loraFolder())
			.append("\nEmbeddings folder: ").append(settings.embeddingsFolder().isEmpty() ? "(none)"
				: settings.embeddingsFolder()).append("\n\n");
		try {
			var model = models.get(key(settings));
			sb.append(model.info().describe());
			EmbeddingSet embeddings = model.initializerOverrides().part(EmbeddingSet.class);
			if (embeddings != null) {
				sb.append("Embeddings: ").append(embeddings.embeddings().isEmpty() ? "none" : embeddings).append('\n');
				embeddings.refused().forEach((name, why) -> sb.append("  not usable: ").append(name).append(": ")
					.append(why).append('\n'));
			}
		}
		catch (StableDiffusionException e) {
			sb.append("The model could not be loaded: ").append(e.getMessage()).append('\n');
		}
		sb.append('\n').append(ExecutionProviders.describe());
		return sb.toString();
	}
}
