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
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.model.ModelProvider;
import sc.fiji.sd.onnx.ExecutionProviders;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.RuntimeOptions;
import sc.fiji.sd.provenance.PngWriter;
import sc.fiji.sd.scheduler.Schedulers;

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
		return new Settings(model.isEmpty() ? saved.modelFolder() : model, device, saved.threads());
	}

	/** The provider's key for the settings: folder (the shipped model when none), device, threads. */
	public static ModelProvider.Key key(Settings settings) {
		Path folder = settings.embeddedModel() ? EmbeddedModel.path() : settings.modelPath(null);
		return new ModelProvider.Key(folder, RuntimeOptions.fromSystemProperties().withDevice(Device.parse(settings
			.device())).withThreads(settings.threads()));
	}

	/**
	 * Opens (or takes from {@code models}) the model the settings name; another model, device or thread count
	 * releases the previous one first.
	 */
	public static ImageGenerator open(ModelProvider models, Settings settings) {
		return new PipelineGenerator(models.get(key(settings)));
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
			.append(settings.threads() == 0 ? "automatic (all processors)" : settings.threads()).append("\n\n");
		try {
			sb.append(models.get(key(settings)).info().describe());
		}
		catch (StableDiffusionException e) {
			sb.append("The model could not be loaded: ").append(e.getMessage()).append('\n');
		}
		sb.append('\n').append(ExecutionProviders.describe());
		return sb.toString();
	}
}
