package sc.fiji.sd.fiji;

import java.io.File;
import java.lang.reflect.Field;

import org.scijava.ItemIO;
import org.scijava.command.ContextCommand;
import org.scijava.log.LogService;
import org.scijava.plugin.Parameter;
import org.scijava.thread.ThreadService;
import org.scijava.ui.UIService;

import ij.ImagePlus;
import sc.fiji.sd.imagej.Parameters;
import sc.fiji.sd.pipeline.GenerationSetting;
import sc.fiji.sd.pipeline.GenerationSettings;

/**
 * What the generation commands (Text to Image, Image to Image, Inpaint) share besides their inputs: the services, the
 * result output and the run through the shared code path.
 * <p>
 * The inputs stay in each command on purpose: SciJava lists a superclass's {@code @Parameter} fields before the
 * subclass's, so inputs moved here would move to the top of the dialog and of recorded macro lines (the image and
 * the strength would come after the model and device).
 */
abstract class GenerationCommand extends ContextCommand {

	/**
	 * The model input's value for "the model chosen in Settings": an empty path, never null, so the macro recorder
	 * records {@code model=} and a recorded line replays without a folder chooser.
	 */
	static final File NO_MODEL = new File("");

	@Parameter
	private StableDiffusionService sd;

	@Parameter
	private LogService log;

	@Parameter(required = false)
	private UIService ui;

	@Parameter(required = false)
	private ThreadService threads;

	@Parameter(type = ItemIO.OUTPUT)
	private ImagePlus result;

	// The inputs of sc.fiji.sd.pipeline.GenerationSettings, one per entry, named by its key (the macro key), with its
	// type, default and range (GenerationSettingsContractTest checks them). SciJava reads inputs from fields, so they
	// are declared here, once for every generation command; as a superclass's inputs they come first in the dialog.
	@Parameter(label = "SDXL original size (WxH; empty: the output size)", required = false, persist = false)
	private String original_size = "";

	@Parameter(label = "SDXL crop top-left (X,Y)", required = false, persist = false)
	private String crop = "0,0";

	@Parameter(label = "SDXL refiner aesthetic score", min = "0", max = "10", stepSize = "0.5", persist = false)
	private double aesthetic_score = 6;

	@Parameter(label = "SDXL refiner negative aesthetic score", min = "0", max = "10", stepSize = "0.5",
		persist = false)
	private double negative_aesthetic = 2.5;

	/**
	 * The command's options as {@link Parameters}: every input whose name is a field of Parameters is copied by name
	 * (both are the macro keys), so a new option is an input here and a field there, with no mapping code. A null
	 * prompt, negative prompt or model becomes empty in the input too: a null input is not recorded, and on replay a
	 * dialog (a folder chooser) would ask for it.
	 */
	Parameters parameters(sc.fiji.sd.pipeline.GenerationRequest.Mode mode) {
		Parameters p = new Parameters(mode);
		try {
			for (Class<?> c = getClass(); c != GenerationCommand.class.getSuperclass(); c = c.getSuperclass())
				for (Field input : c.getDeclaredFields()) {
					if (!input.isAnnotationPresent(Parameter.class)) continue;
					GenerationSetting<?> setting = GenerationSettings.byKey(input.getName());
					if (setting != null) {
						input.setAccessible(true);
						if (input.get(this) == null && !setting.isNumber()) input.set(this, ""); // recorded as key=
						// as given: checked with the other options, where a bad value cancels with a message
						p.settings.put(setting, input.get(this));
						continue;
					}
					Field option;
					try {
						option = Parameters.class.getField(input.getName());
					}
					catch (NoSuchFieldException e) {
						continue; // the image: not an option
					}
					input.setAccessible(true);
					Object value = input.get(this);
					if (value == null && EMPTY_WHEN_NULL.contains(input.getName())) {
						value = input.getType() == File.class ? NO_MODEL : "";
						input.set(this, value);
					}
					option.set(p, value instanceof File file ? file.getPath() : value);
				}
		}
		catch (IllegalAccessException e) {
			throw new IllegalStateException("The command's inputs cannot be read: " + e, e);
		}
		return p;
	}

	/** The inputs that are recorded empty rather than left null. */
	private static final java.util.Set<String> EMPTY_WHEN_NULL = java.util.Set.of("prompt", "negative", "model", "control",
		"controlnet", "refiner");

	/**
	 * Runs the generation, sets the result (null, with the command cancelled with the message, on a user error) and
	 * writes the seed and subseed actually used back into the {@code seed} and {@code subseed} inputs, before the
	 * macro recorder (a post-processor) records them, so a recorded line replays to the same pixels.
	 */
	void generate(Parameters p, ImagePlus input) {
		result = CommandSupport.generate(this, sd, log, p, input);
		ImageJResults.register(result, ui, threads);
		setInput("seed", p.seed);
		setInput("subseed", p.subseed);
	}

	/** Sets the command's input of that name (a field of the concrete command, like those {@link #parameters} reads). */
	private void setInput(String name, Object value) {
		try {
			for (Class<?> c = getClass(); c != GenerationCommand.class; c = c.getSuperclass())
				for (Field input : c.getDeclaredFields())
					if (input.getName().equals(name) && input.isAnnotationPresent(Parameter.class)) {
						input.setAccessible(true);
						input.set(this, value);
						return;
					}
		}
		catch (IllegalAccessException e) {
			throw new IllegalStateException("The command's input " + name + " cannot be set: " + e, e);
		}
		throw new IllegalStateException(getClass().getSimpleName() + " has no input " + name);
	}
}
