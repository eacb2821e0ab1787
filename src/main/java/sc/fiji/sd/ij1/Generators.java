package sc.fiji.sd.ij1;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.model.ModelCache;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.ExecutionProviders;
import sc.fiji.sd.provenance.PngWriter;
import sc.fiji.sd.scheduler.Schedulers;

/**
 * Where the front ends get a loaded model from, and the sampler names they offer. Models are kept by the core's
 * model cache for the whole application (the Fiji service and the ImageJ 1 plugins share it), so a second run does
 * not reload.
 */
public final class Generators {

	/** The drop-down entry that keeps the model's own scheduler (recorded as {@code scheduler=default}). */
	public static final String DEFAULT_SCHEDULER = "default";

	private Generators() {}

	/** The settings the cached model was loaded with (threads are not part of the cache's key). */
	private static Settings loadedWith;

	/** Opens (or takes from the cache) the model the settings name; another model, device or thread count
	 * releases the previous one first. */
	public static synchronized ImageGenerator open(Settings settings) {
		if (loadedWith != null && loadedWith.threads() != settings.threads()) release();
		ExecutionProviders.setIntraOpThreads(settings.threads());
		Path folder = settings.embeddedModel() ? EmbeddedModel.path() : settings.modelPath(null);
		StableDiffusionModel model = ModelCache.shared().get(folder, settings.device());
		loadedWith = settings;
		return new PipelineGenerator(model);
	}

	/** Releases the cached model and its native memory. */
	public static synchronized void release() {
		ModelCache.shared().release();
		loadedWith = null;
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
	 * Text about the settings, the model (loading it), the ONNX Runtime providers and why CUDA is or is not used; a
	 * model that cannot be loaded is reported in the text, not thrown.
	 */
	public static String describe(Settings settings) {
		StringBuilder sb = new StringBuilder();
		sb.append("Model folder: ").append(settings.embeddedModel() ? "(the model shipped with the plugin)"
			: settings.modelFolder()).append("\nDevice: ").append(settings.device()).append("\nThreads: ")
			.append(settings.threads() == 0 ? "automatic (all processors)" : settings.threads()).append("\n\n");
		try {
			open(settings);
			sb.append(ModelCache.shared().current().info().describe());
		}
		catch (StableDiffusionException e) {
			sb.append("The model could not be loaded: ").append(e.getMessage()).append('\n');
		}
		sb.append('\n').append(ExecutionProviders.describe());
		return sb.toString();
	}
}
