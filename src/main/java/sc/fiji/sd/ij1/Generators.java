package sc.fiji.sd.ij1;

import java.util.List;

import sc.fiji.sd.StableDiffusionException;

/**
 * Where the front ends get a loaded model from, and the sampler names they offer. Models are kept by the core's
 * model cache for the whole application (the Fiji service and the ImageJ 1 plugins share it), so a second run does
 * not reload.
 */
public final class Generators {

	/** The drop-down entry that keeps the model's own scheduler (recorded as {@code scheduler=default}). */
	public static final String DEFAULT_SCHEDULER = "default";

	private Generators() {}

	/** Opens (or takes from the cache) the model the settings name. */
	public static ImageGenerator open(Settings settings) {
		throw new StableDiffusionException("The Stable Diffusion pipeline is not part of this build yet.");
	}

	/** Releases the cached model and its native memory. */
	public static void release() {}

	/** Choices for the scheduler drop-down: {@link #DEFAULT_SCHEDULER}, then the A1111 sampler names. */
	public static List<String> schedulerChoices() {
		return List.of(DEFAULT_SCHEDULER, "Euler a", "Euler", "LMS", "Heun", "DDIM", "PLMS", "DPM++ 2M",
			"DPM++ 2M Karras", "UniPC", "LCM");
	}

	/** Maps a drop-down choice to the request's scheduler name (null: the model's own). */
	public static String schedulerForRequest(String choice) {
		return choice == null || choice.isBlank() || choice.equals(DEFAULT_SCHEDULER) ? null : choice;
	}

	/** Writes an RGB image as PNG with text chunks (the provenance layer's writer). */
	public static void writePng(java.nio.file.Path path,
		net.imglib2.RandomAccessibleInterval<net.imglib2.type.numeric.real.FloatType> rgb,
		java.util.Map<String, String> textChunks) throws java.io.IOException {
		throw new StableDiffusionException("Saving PNG with parameters is not part of this build yet.");
	}

	/** Text about the model, the providers and why CUDA is or is not used (Settings command, logs). */
	public static String describe(Settings settings) {
		return "Model folder: " + (settings.embeddedModel() ? "(the model shipped with the plugin)" : settings.modelFolder())
			+ "\nDevice: " + settings.device() + "\nThreads: " + (settings.threads() == 0 ? "automatic" : settings.threads());
	}
}
