package sc.fiji.sd.fiji;

import org.scijava.plugin.Plugin;
import org.scijava.service.AbstractService;
import org.scijava.service.SciJavaService;
import org.scijava.service.Service;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.imagej.Generators;
import sc.fiji.sd.imagej.ImageGenerator;
import sc.fiji.sd.imagej.Parameters;
import sc.fiji.sd.imagej.Settings;
import sc.fiji.sd.model.ModelProvider;

/**
 * The application's Stable Diffusion models, for the Fiji commands (which get this service as a {@code @Parameter}).
 * <p>
 * The service owns the model provider, as imagej-tensorflow's service owns its model cache: created when the context
 * starts, closed (freeing the native memory) when it is disposed (Fiji quits). A second run does not reload; a
 * Settings change releases the old model at once. Its state is guarded by the provider's lock, the one every
 * generation holds ({@link ModelProvider#exclusively}), so a Settings change waits for a running generation.
 */
@Plugin(type = Service.class)
public class StableDiffusionService extends AbstractService implements SciJavaService {

	private ModelProvider models;
	private ImageGenerator override;

	@Override
	public void initialize() {
		models = new ModelProvider();
	}

	/** The provider of this application's loaded model. */
	public ModelProvider models() {
		return models;
	}

	/** The model named by the current settings, loaded on first use. */
	public ImageGenerator generator() {
		return generator(new Parameters());
	}

	/**
	 * The model for one run: the run's own model folder and device where it names them, otherwise the settings'
	 * (see {@link Generators#forRun}); loaded on first use, another one releases the previous.
	 */
	public ImageGenerator generator(Parameters run) {
		return models.exclusively(() -> override != null ? override : Generators.open(models, Generators.forRun(
			Settings.load(), run), run));
	}

	/** Saves new settings (shared with the ImageJ 1 plugins); the old model is released when they differ. */
	public void apply(Settings settings) {
		models.exclusively(() -> {
			settings.save();
			ModelProvider.Key loaded = models.currentKey();
			if (loaded != null && !loaded.equals(keyOrNull(settings))) models.release();
			return null;
		});
	}

	/** The provider's key for the settings, or null when their model folder does not exist (nothing to keep). */
	private static ModelProvider.Key keyOrNull(Settings settings) {
		try {
			return Generators.key(settings);
		}
		catch (StableDiffusionException e) {
			return null;
		}
	}

	/**
	 * Makes the commands use this generator instead of the model the settings name (scripts with a model of their
	 * own, tests); null returns to the settings.
	 */
	public void setGenerator(ImageGenerator generator) {
		models.exclusively(() -> override = generator);
	}

	/** Frees the loaded model's memory now; the next run loads it again. */
	public void release() {
		models.release();
	}

	@Override
	public void dispose() {
		models.close();
	}
}
