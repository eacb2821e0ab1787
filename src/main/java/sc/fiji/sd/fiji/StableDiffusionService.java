package sc.fiji.sd.fiji;

import org.scijava.plugin.Plugin;
import org.scijava.service.AbstractService;
import org.scijava.service.SciJavaService;
import org.scijava.service.Service;

import sc.fiji.sd.imagej.Generators;
import sc.fiji.sd.imagej.ImageGenerator;
import sc.fiji.sd.imagej.Parameters;
import sc.fiji.sd.imagej.Settings;

/**
 * The application's Stable Diffusion models, for the Fiji commands.
 * <p>
 * Loaded models live in the core's model cache, which the ImageJ 1 plugins use too, so a model loaded from either
 * menu is reused by both and a second run does not reload. This service releases the native memory when the model
 * or device changes and when the application context is disposed (Fiji quits). Its state is guarded by the same
 * lock as every generation ({@link Generators#exclusively}), so a Settings change waits for a running generation.
 */
@Plugin(type = Service.class)
public class StableDiffusionService extends AbstractService implements SciJavaService {

	private Settings loaded;
	private ImageGenerator override;

	/** The model named by the current settings, loaded on first use. */
	public ImageGenerator generator() {
		return generator(new Parameters());
	}

	/**
	 * The model for one run: the run's own model folder and device where it names them, otherwise the settings'
	 * (see {@link Generators#forRun}); loaded on first use, another one releases the previous.
	 */
	public ImageGenerator generator(Parameters run) {
		return Generators.exclusively(() -> {
			if (override != null) return override;
			Settings settings = Generators.forRun(Settings.load(), run);
			if (loaded != null && !loaded.equals(settings)) Generators.release();
			ImageGenerator generator = Generators.open(settings);
			loaded = settings;
			return generator;
		});
	}

	/** Saves new settings (shared with the ImageJ 1 plugins); the old model is released when they differ. */
	public void apply(Settings settings) {
		Generators.exclusively(() -> {
			settings.save();
			if (loaded != null && !loaded.equals(settings)) release();
			return null;
		});
	}

	/**
	 * Makes the commands use this generator instead of the model the settings name (scripts with a model of their
	 * own, tests); null returns to the settings.
	 */
	public void setGenerator(ImageGenerator generator) {
		Generators.exclusively(() -> override = generator);
	}

	/** Frees the loaded model's memory now; the next run loads it again. */
	public void release() {
		Generators.exclusively(() -> {
			Generators.release();
			loaded = null;
			return null;
		});
	}

	@Override
	public void dispose() {
		release();
	}
}
