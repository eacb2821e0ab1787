package sc.fiji.sd.imagej;

import java.util.LinkedHashMap;
import java.util.Map;

import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.GenerationSetting;
import sc.fiji.sd.pipeline.GenerationSettings;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/**
 * The options of one run as the user sets them in a dialog or a macro: the same names in both front ends and in
 * recorded macros ({@code run("Text to Image...", "prompt=[...] steps=20 seed=42 ...")}).
 * <p>
 * Mutable on purpose: dialogs fill it field by field, and {@link Generation} writes back the seed it actually used.
 */
public final class Parameters {

	public Mode mode = Mode.TEXT_TO_IMAGE;
	public String prompt = "";
	public String negative = "";
	public int steps = 20;
	public double guidance = 7;
	/** −1 draws a random seed; {@link Generation#run} replaces it by the seed drawn. */
	public long seed = GenerationRequest.RANDOM_SEED;
	/** A1111's variation seed (macro key {@code subseed}); −1 draws one when {@link #variation} is above 0. */
	public long subseed = GenerationRequest.RANDOM_SEED;
	/** A1111's variation seed strength (macro key {@code variation}): 0 (off) … 1 (the subseed's image). */
	public double variation;
	/** Text to image: output size; 0 means the model's native size. */
	public int width;
	public int height;
	/** Sampler name (A1111 style); empty or null means the model's own scheduler. */
	public String scheduler = "";
	/** Text to image: A1111's hires fix (macro keys {@code hires hiressteps hiresstrength}); upscale 1 is off. */
	public double hires = 1;
	public int hiressteps;
	public double hiresstrength = sc.fiji.sd.pipeline.HiresFix.Options.OFF.strength();
	/**
	 * Text to image with an SDXL base model: the SDXL refiner's folder (macro key {@code refiner}), which continues
	 * from {@link #refiner_switch} (A1111's "Refiner switch at"); empty: no refiner.
	 */
	public String refiner = "";
	public double refiner_switch = 0.8;
	/** Image to image and inpainting: 0 keeps the input, 1 ignores it. */
	public double strength = 0.75;
	/** Number of images (each with the next seed). */
	public int batch = 1;
	/**
	 * Image to image: tiled diffusion for images larger than the model's size, the tile side in pixels (the overlap is
	 * the request's default, 16 pixels); 0 = off.
	 */
	public int tile;
	/** Inpainting: soft edge of the selection, in pixels. */
	public int feather = 4;
	/** Image to image and inpainting: {@link #SAME_AS_INPUT} (8-, 16-, 32-bit in, the same type out) or {@link #RGB}. */
	public String output = SAME_AS_INPUT;
	/** Composite images: {@link #MERGED} (the displayed view, RGB out, as before) or {@link #EACH} channel. */
	public String channels = MERGED;
	/** Outpaint (an inpainting of the extended canvas) rather than Inpaint; the sides say how far. */
	public boolean outpainting;
	/** Outpainting: pixels added on each side of the canvas (at least one more than 0). */
	public int left, right, top, bottom;
	/** Image to image and inpainting on a stack: every slice instead of the current one. */
	public boolean stack;
	/** Show a live preview window while generating. */
	public boolean preview;
	/** Model folder for this run; empty means the one chosen in Settings (or the shipped model). Recorded macros
	 * that name it replay with the same model on any machine. */
	public String model = "";
	/** Device for this run: {@link Generators#DEFAULT_DEVICE} (the one chosen in Settings), auto, cpu or cuda. */
	public String device = Generators.DEFAULT_DEVICE;
	/**
	 * ControlNet: where the control image comes from ({@link ControlImages}): {@link ControlImages#NONE}, the current
	 * selection as a white-on-black mask ({@link ControlImages#SELECTION}), or the title of an open image (its
	 * displayed slice). Macro keys {@code control control_type controlnet control_scale control_start control_end
	 * control_low control_high show_control}.
	 */
	public String control = ControlImages.NONE;
	/** The preprocessor ({@code sc.fiji.sd.control.ControlPreprocessors}): none, canny, invert, mask, scribble_xdog. */
	public String control_type = sc.fiji.sd.control.ControlPreprocessors.DEFAULT;
	/**
	 * The ControlNet's folder (macro key {@code controlnet}, as the command line's {@code --controlnet}; not
	 * "control_model": ImageJ's Macro.getValue would also read that as {@code model=}, since an underscore is no
	 * letter); empty: {@link ControlImages#defaultModel} (beside the base model's folder).
	 */
	public String controlnet = "";
	/** How strongly it acts (A1111's weight); from when to when (fractions of the steps). */
	public double control_scale = 1, control_start = 0, control_end = 1;
	/** Canny's thresholds (0–255). */
	public double control_low = sc.fiji.sd.control.ControlOptions.DEFAULT_LOW,
		control_high = sc.fiji.sd.control.ControlOptions.DEFAULT_HIGH;
	/** Open the preprocessed control image as its own window (what the model sees). */
	public boolean show_control;
	/**
	 * The values of {@link GenerationSettings} the user set (macro key = the setting's key); a setting not here takes
	 * its default. Values as a front end has them (numbers, text, or the values themselves): the request checks them
	 * ({@link GenerationSetting#value}); {@link #set} checks at once.
	 */
	public final Map<GenerationSetting<?>, Object> settings = new LinkedHashMap<>();

	public static final String SAME_AS_INPUT = "Same as input";
	public static final String RGB = "RGB";
	public static final String MERGED = "merged";
	public static final String EACH = "each";
	/** Choices of the output drop-down (macro key {@code output}). */
	public static final String[] OUTPUT_CHOICES = { SAME_AS_INPUT, RGB };
	/** Choices of the channels drop-down (macro key {@code channels}). */
	public static final String[] CHANNELS_CHOICES = { MERGED, EACH };

	public Parameters() {}

	/** The hires fix options (text to image), with A1111's pixel upscaler Lanczos. */
	public sc.fiji.sd.pipeline.HiresFix.Options hiresOptions() {
		return new sc.fiji.sd.pipeline.HiresFix.Options(hires, hiressteps, hiresstrength, sc.fiji.sd.pipeline.HiresFix.LANCZOS);
	}

	/** True for Outpaint. */
	public boolean outpaint() {
		return outpainting;
	}

	/** The sides to extend, for the core's outpainting helpers. */
	public sc.fiji.sd.image.Outpainting.Sides sides() {
		return new sc.fiji.sd.image.Outpainting.Sides(left, right, top, bottom);
	}

	public Parameters(Mode mode) {
		this.mode = mode;
	}

	/** A setting's value: the one set, else its default. */
	public <T> T setting(GenerationSetting<T> setting) {
		return setting.value(settings.get(setting));
	}

	/** Sets a setting from a dialog's or a command's value (a number, text, or the value itself), checked. */
	public void set(GenerationSetting<?> setting, Object value) {
		settings.put(setting, setting.value(value));
	}

	public Parameters copy() {
		Parameters p = new Parameters(mode);
		p.prompt = prompt;
		p.negative = negative;
		p.steps = steps;
		p.guidance = guidance;
		p.seed = seed;
		p.subseed = subseed;
		p.variation = variation;
		p.width = width;
		p.height = height;
		p.hires = hires;
		p.hiressteps = hiressteps;
		p.hiresstrength = hiresstrength;
		p.refiner = refiner;
		p.refiner_switch = refiner_switch;
		p.scheduler = scheduler;
		p.strength = strength;
		p.batch = batch;
		p.tile = tile;
		p.feather = feather;
		p.output = output;
		p.channels = channels;
		p.outpainting = outpainting;
		p.left = left;
		p.right = right;
		p.top = top;
		p.bottom = bottom;
		p.stack = stack;
		p.preview = preview;
		p.model = model;
		p.device = device;
		p.control = control;
		p.control_type = control_type;
		p.controlnet = controlnet;
		p.control_scale = control_scale;
		p.control_start = control_start;
		p.control_end = control_end;
		p.control_low = control_low;
		p.control_high = control_high;
		p.show_control = show_control;
		p.settings.putAll(settings);
		return p;
	}
}
