package sc.fiji.sd.ij1;

import java.awt.GraphicsEnvironment;
import java.awt.TextField;
import java.util.List;
import java.util.Vector;

import ij.ImagePlus;
import ij.Macro;
import ij.gui.GenericDialog;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.control.ControlPreprocessors;
import sc.fiji.sd.imagej.ControlImages;
import sc.fiji.sd.imagej.Generation;
import sc.fiji.sd.imagej.Generators;
import sc.fiji.sd.imagej.Parameters;
import sc.fiji.sd.imagej.Settings;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.GenerationSetting;
import sc.fiji.sd.provenance.Provenance;
import sc.fiji.sd.pipeline.GenerationSettings;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;
import sc.fiji.sd.pipeline.Seeds;

/**
 * The ImageJ 1 dialogs. Each label's first word is the macro key, the same as the Fiji commands' parameter names:
 * {@code prompt negative steps guidance seed subseed variation width height scheduler strength batch feather output channels stack
 * preview model device}, the ControlNet's {@code control control_type controlnet control_scale control_start
 * control_end control_low control_high show_control}, for Outpaint {@code left right top bottom}, for Image to Image {@code tile},
 * and the keys of {@link GenerationSettings} (their fields are made from that table, after every other field, so the
 * fields before keep their places; recorded only when not the default, so lines recorded before keep their form).
 * <p>
 * Under a macro no dialog appears; values come from the options string and missing keys keep the defaults below
 * (never the last interactive values, so a macro means the same thing every time).
 * <p>
 * <b>Recording the seed.</b> A seed of −1 asks for a random one. So that a recorded {@code run(...)} line replays to
 * the same pixels, the random seed is drawn here, after OK and before the seed field is read, and written into the
 * field: GenericDialog then records {@code seed=<the seed used>}, not {@code seed=-1}. The dialog keeps −1 as the
 * default for the next run.
 */
public final class Dialogs {

	/** Last interactive values per command, shown as defaults next time (not used under macros). */
	private static final java.util.Map<Mode, Parameters> LAST = new java.util.EnumMap<>(Mode.class);

	private static final List<String> NUMERIC_KEYS = List.of("steps", "guidance", "seed", "subseed", "variation", "hires",
		"hiressteps", "hiresstrength", "width", "height", "strength", "batch", "feather", "threads", "left", "right", "top",
		"bottom", "tile", "control_scale", "control_start", "control_end", "control_low", "control_high",
		"refiner_switch");

	private Dialogs() {}

	/**
	 * Asks for the options of one command.
	 *
	 * @param input the image the command works on (null for text to image); decides whether "stack" is offered
	 * @return the options, or null when the user cancelled
	 */
	public static Parameters ask(Mode mode, ImagePlus input) {
		return ask(mode, input, false);
	}

	/** Last interactive values of Outpaint (an inpainting of the extended canvas, with its own dialog). */
	private static Parameters lastOutpaint;

	/**
	 * Asks for the options of one command; {@code outpaint}: the Outpaint dialog (inpainting with the sides to
	 * extend, macro keys {@code left right top bottom}).
	 */
	public static Parameters ask(Mode mode, ImagePlus input, boolean outpaint) {
		String options = Macro.getOptions();
		boolean macro = options != null;
		if (macro) checkMacroOptions(options, mode);
		Parameters d = macro ? outpaintDefaults(new Parameters(mode), outpaint)
			: outpaint ? (lastOutpaint == null ? outpaintDefaults(new Parameters(mode), true) : lastOutpaint.copy())
			: LAST.getOrDefault(mode, new Parameters(mode)).copy();
		GenericDialog gd = new GenericDialog((outpaint ? "Outpaint" : Generation.modeName(mode)) + " (Stable Diffusion)");
		gd.addStringField("Prompt", d.prompt, 50);
		gd.addStringField("Negative prompt", d.negative, 50);
		gd.addNumericField("Steps", d.steps, 0);
		gd.addNumericField("Guidance (CFG scale)", d.guidance, 1);
		gd.addNumericField("Seed", d.seed, 0, 12, "-1 = random");
		gd.addNumericField("Subseed (variation seed)", d.subseed, 0, 12, "-1 = random");
		gd.addNumericField("Variation strength", d.variation, 2, 6, "0 = off, 1 = the subseed's image");
		if (mode == Mode.TEXT_TO_IMAGE) {
			gd.addNumericField("Width", d.width, 0, 6, "pixels (0 = model size)");
			gd.addNumericField("Height", d.height, 0, 6, "pixels (0 = model size)");
			gd.addNumericField("Hires upscale", d.hires, 2, 6, "1 = off (A1111's hires fix)");
			gd.addNumericField("HiresSteps", d.hiressteps, 0, 6, "0 = same as steps");
			gd.addNumericField("HiresStrength", d.hiresstrength, 2, 6, "denoising strength of the hires pass");
			gd.addStringField("Refiner", d.refiner, 30); // SDXL's refiner folder; empty: none
			gd.addNumericField("Refiner_switch", d.refiner_switch, 2, 6, "fraction of the steps before the refiner");
		}
		if (outpaint) {
			gd.addNumericField("Left", d.left, 0, 6, "pixels to add");
			gd.addNumericField("Right", d.right, 0, 6, "pixels to add");
			gd.addNumericField("Top", d.top, 0, 6, "pixels to add");
			gd.addNumericField("Bottom", d.bottom, 0, 6, "pixels to add");
		}
		List<String> schedulers = Generators.schedulerChoices();
		String scheduler = schedulers.contains(d.scheduler) ? d.scheduler : Generators.DEFAULT_SCHEDULER;
		gd.addChoice("Scheduler (sampler)", schedulers.toArray(new String[0]), scheduler);
		if (mode != Mode.TEXT_TO_IMAGE) gd.addNumericField("Strength", d.strength, 2, 6, "0 keeps the image, 1 ignores it");
		if (mode == Mode.IMAGE_TO_IMAGE) gd.addNumericField("Tile", d.tile, 0, 6, "pixels (tiled diffusion; 0 = off)");
		gd.addNumericField("Batch", d.batch, 0, 6, "images (seed, seed+1, ...)");
		if (mode == Mode.INPAINT) gd.addNumericField("Feather", d.feather, 0, 6, "pixels (soft edge of the selection)");
		if (mode != Mode.TEXT_TO_IMAGE)
			gd.addChoice("Output", Parameters.OUTPUT_CHOICES, choice(Parameters.OUTPUT_CHOICES, d.output));
		boolean offerChannels = input != null && mode != Mode.TEXT_TO_IMAGE && input.isComposite();
		if (offerChannels) gd.addChoice("Channels", Parameters.CHANNELS_CHOICES, choice(Parameters.CHANNELS_CHOICES,
			d.channels));
		boolean offerStack = input != null && mode != Mode.TEXT_TO_IMAGE && input.getNSlices() * input.getNFrames() > 1;
		if (offerStack) gd.addCheckbox("Stack (all slices)", d.stack);
		gd.addCheckbox("Preview while generating", d.preview);
		addControlFields(gd, d); // Outpaint too: its selection is moved onto the larger canvas

		// Empty model and device "default": the ones chosen in Settings. The drop-down only fills the field (not a
		// macro key, not recorded), so it is left out when a macro runs the dialog.
		ModelChooser.addModelField(gd, "Model folder", d.model, !macro, ModelChooser.AS_IN_SETTINGS);
		boolean knownDevice = java.util.Arrays.asList(Generators.DEVICE_CHOICES).contains(d.device);
		gd.addChoice("Device", Generators.DEVICE_CHOICES, knownDevice ? d.device : Generators.DEFAULT_DEVICE);
		List<GenerationSetting<?>> settings = GenerationSettings.forMode(mode);
		for (GenerationSetting<?> s : settings) addSettingField(gd, s);
		gd.addHelp("https://imagej.net/plugins/stable-diffusion");
		gd.showDialog();
		if (gd.wasCanceled()) return null;

		Parameters p = new Parameters(mode);
		p.prompt = gd.getNextString();
		p.negative = gd.getNextString();
		p.steps = (int) gd.getNextNumber();
		p.guidance = gd.getNextNumber();
		boolean randomSeed = false;
		if (!macro) randomSeed = putDrawnSeedIntoField(gd, 2);
		p.seed = (long) gd.getNextNumber();
		boolean randomSubseed = !macro && variationOn(gd, 4) && putDrawnSeedIntoField(gd, 3);
		p.subseed = (long) gd.getNextNumber();
		p.variation = gd.getNextNumber();
		if (mode == Mode.TEXT_TO_IMAGE) {
			p.width = (int) gd.getNextNumber();
			p.height = (int) gd.getNextNumber();
			p.hires = gd.getNextNumber();
			p.hiressteps = (int) gd.getNextNumber();
			p.hiresstrength = gd.getNextNumber();
			p.refiner = gd.getNextString();
			p.refiner_switch = gd.getNextNumber();
		}
		if (outpaint) {
			p.outpainting = true;
			p.left = (int) gd.getNextNumber();
			p.right = (int) gd.getNextNumber();
			p.top = (int) gd.getNextNumber();
			p.bottom = (int) gd.getNextNumber();
		}
		p.scheduler = gd.getNextChoice();
		if (mode != Mode.TEXT_TO_IMAGE) p.strength = gd.getNextNumber();
		if (mode == Mode.IMAGE_TO_IMAGE) p.tile = (int) gd.getNextNumber();
		p.batch = (int) gd.getNextNumber();
		if (mode == Mode.INPAINT) p.feather = (int) gd.getNextNumber();
		if (mode != Mode.TEXT_TO_IMAGE) p.output = gd.getNextChoice();
		if (offerChannels) p.channels = gd.getNextChoice();
		p.stack = offerStack && gd.getNextBoolean();
		p.preview = gd.getNextBoolean();
		readControlFields(gd, p);
		p.model = gd.getNextString();
		p.device = gd.getNextChoice();
		gd.setSmartRecording(true); // a setting is recorded only when it is not the default the field showed
		for (GenerationSetting<?> s : settings) readSettingField(gd, s, p);
		gd.setSmartRecording(false);
		if (gd.invalidNumber()) throw new StableDiffusionException("A number field has a value that is not a number: "
			+ gd.getErrorMessage() + ". Enter a number and run the command again.");
		if (!macro) {
			Parameters remembered = p.copy();
			if (randomSeed) remembered.seed = -1;
			if (randomSubseed) remembered.subseed = -1;
			if (outpaint) lastOutpaint = remembered;
			else LAST.put(mode, remembered);
		}
		return p;
	}

	/**
	 * The ControlNet fields (macro keys {@code control control_type controlnet control_scale control_start
	 * control_end control_low control_high show_control}; GenericDialog shows the underscores as spaces).
	 */
	private static void addControlFields(GenericDialog gd, Parameters d) {
		String[] sources = ControlImages.choices(ControlImages.OpenImages.IMAGEJ);
		String[] types = ControlPreprocessors.names().toArray(new String[0]);
		gd.addChoice("Control (ControlNet image)", sources, choice(sources, d.control));
		gd.addToSameRow(); // four rows for nine fields: the dialog must still fit a laptop screen
		gd.addChoice("Control_type", types, choice(types, d.control_type));
		gd.addStringField("ControlNet (empty: <model>" + ControlImages.MODEL_SUFFIX + ")", d.controlnet,
			30);
		gd.addNumericField("Control_scale", d.control_scale, 2, 5, "");
		gd.addToSameRow();
		gd.addNumericField("Control_start", d.control_start, 2, 5, "");
		gd.addToSameRow();
		gd.addNumericField("Control_end", d.control_end, 2, 5, "(fractions of the steps)");
		gd.addNumericField("Control_low", d.control_low, 0, 5, "");
		gd.addToSameRow();
		gd.addNumericField("Control_high", d.control_high, 0, 5, "(canny, 0-255)");
		gd.addToSameRow();
		gd.addCheckbox("Show_control image", d.show_control);
	}

	/**
	 * A setting's field, showing the setting's default (not the last value: the field is recorded only when changed
	 * from what it showed, and a line without the key replays with the default); its label's first word is the macro
	 * key (GenericDialog shows the underscores as spaces).
	 */
	private static <T> void addSettingField(GenericDialog gd, GenerationSetting<T> s) {
		String label = Character.toUpperCase(s.key().charAt(0)) + s.key().substring(1);
		T value = s.defaultValue();
		if (s.isNumber())
			gd.addNumericField(label, ((Number) value).doubleValue(), s.type() == Integer.class ? 0 : 2, 6,
				Provenance.number(s.min()) + "-" + Provenance.number(s.max())); // its range: the command line's X says nothing here
		else gd.addStringField(label + " (" + s.paramLabel() + ")", s.text(value), 12);
	}

	private static void readSettingField(GenericDialog gd, GenerationSetting<?> s, Parameters p) {
		if (!s.isNumber()) {
			p.set(s, gd.getNextString());
			return;
		}
		double v = gd.getNextNumber();
		if (!Double.isNaN(v)) p.set(s, v); // not a number: reported with the other fields below
	}

	private static void readControlFields(GenericDialog gd, Parameters p) {
		p.control = gd.getNextChoice();
		p.control_type = gd.getNextChoice();
		p.controlnet = gd.getNextString();
		p.control_scale = gd.getNextNumber();
		p.control_start = gd.getNextNumber();
		p.control_end = gd.getNextNumber();
		p.control_low = gd.getNextNumber();
		p.control_high = gd.getNextNumber();
		p.show_control = gd.getNextBoolean();
	}

	/** Outpaint's defaults: strength 1 (the new area has nothing worth keeping); the sides start at 0 (none). */
	private static Parameters outpaintDefaults(Parameters p, boolean outpaint) {
		if (outpaint) p.strength = 1;
		return p;
	}

	private static String choice(String[] choices, String value) {
		return java.util.Arrays.asList(choices).contains(value) ? value : choices[0];
	}

	/**
	 * When the seed field (the {@code index}-th numeric field) says −1, replaces it by a seed drawn by the core
	 * ({@link Seeds#draw}) so the recorder records the seed actually used. Returns true when it did. Any other
	 * negative seed is left for the core's validator, which refuses it with a message.
	 */
	static boolean putDrawnSeedIntoField(GenericDialog gd, int index) {
		@SuppressWarnings("unchecked")
		Vector<TextField> fields = gd.getNumericFields();
		if (fields == null || fields.size() <= index) return false;
		TextField field = fields.get(index);
		try {
			if (Double.parseDouble(field.getText().trim()) != GenerationRequest.RANDOM_SEED) return false;
		}
		catch (NumberFormatException e) {
			return false; // GenericDialog reports it
		}
		field.setText(Long.toString(Seeds.draw()));
		return true;
	}

	/** True when the {@code index}-th numeric field (the variation strength) is above 0: a subseed is then used. */
	private static boolean variationOn(GenericDialog gd, int index) {
		@SuppressWarnings("unchecked")
		Vector<TextField> fields = gd.getNumericFields();
		try {
			return fields != null && fields.size() > index && Double.parseDouble(fields.get(index).getText().trim()) > 0;
		}
		catch (NumberFormatException e) {
			return false; // GenericDialog reports it
		}
	}

	/**
	 * Checks a macro's options before the dialog reads them, so a typo gives a message that names the key and what
	 * is allowed (the headless dialog would otherwise fail with a bare NumberFormatException or silently take the
	 * first scheduler).
	 */
	static void checkMacroOptions(String options, Mode mode) {
		for (String key : NUMERIC_KEYS) {
			String value = Macro.getValue(options, key, null);
			if (value == null || value.startsWith("&")) continue;
			try {
				Double.parseDouble(value);
			}
			catch (NumberFormatException e) {
				throw new StableDiffusionException("\"" + key + "=" + value + "\" in the options of "
					+ Generation.modeName(mode) + "... is not a number. Write a number, e.g. " + example(key) + ".");
			}
		}
		for (GenerationSetting<?> s : GenerationSettings.ALL) {
			String value = Macro.getValue(options, s.key(), null);
			if (value == null || value.startsWith("&")) continue;
			try {
				s.value(value);
			}
			catch (StableDiffusionException e) {
				throw new StableDiffusionException("\"" + s.key() + "=" + value + "\" in the options of "
					+ Generation.modeName(mode) + "...: " + e.getMessage());
			}
		}
		String scheduler = Macro.getValue(options, "scheduler", null);
		if (scheduler != null && !scheduler.startsWith("&") && !Generators.schedulerChoices().contains(scheduler))
			throw new StableDiffusionException("Unknown scheduler \"" + scheduler + "\". Choose one of: "
				+ String.join(", ", Generators.schedulerChoices()) + " (names with spaces in brackets, e.g. "
				+ "scheduler=[Euler a]).");
		checkChoice(options, "output", Parameters.OUTPUT_CHOICES, "output=[Same as input] or output=RGB");
		checkChoice(options, "channels", Parameters.CHANNELS_CHOICES, "channels=each or channels=merged");
		checkChoice(options, "control_type", ControlPreprocessors.names().toArray(new String[0]), "control_type=canny");
		String control = Macro.getValue(options, "control", null);
		if (control != null && !control.startsWith("&")) ControlImages.checkSource(control, ControlImages.OpenImages.IMAGEJ);
		String device = Macro.getValue(options, "device", null);
		if (device != null && !device.startsWith("&") && !java.util.Arrays.asList(Generators.DEVICE_CHOICES).contains(device))
			throw new StableDiffusionException("Unknown device \"" + device + "\". Choose one of: "
				+ String.join(", ", Generators.DEVICE_CHOICES) + " (default: the device chosen in Stable Diffusion "
				+ "Settings...).");
	}

	private static void checkChoice(String options, String key, String[] choices, String example) {
		String value = Macro.getValue(options, key, null);
		if (value != null && !value.startsWith("&") && !java.util.Arrays.asList(choices).contains(value))
			throw new StableDiffusionException("Unknown " + key + " \"" + value + "\". Choose one of: "
				+ String.join(", ", choices) + " (e.g. " + example + ").");
	}

	private static String example(String key) {
		return switch (key) {
			case "steps" -> "steps=20";
			case "guidance" -> "guidance=7";
			case "seed" -> "seed=42 (or seed=-1 for a random one)";
			case "width", "height" -> key + "=64";
			case "strength" -> "strength=0.75";
			case "variation" -> "variation=0.3";
			case "feather" -> "feather=4";
			case "tile" -> "tile=64 (or tile=0 for none)";
			case "left", "right", "top", "bottom" -> key + "=32";
			case "threads" -> "threads=4";
			case "control_scale" -> "control_scale=1";
			case "control_start", "control_end" -> key + "=0.5";
			case "control_low" -> "control_low=100";
			case "control_high" -> "control_high=200";
			default -> key + "=1";
		};
	}

	/** True when running headless (no dialogs can be built with AWT widgets). */
	static boolean headless() {
		return GraphicsEnvironment.isHeadless();
	}
}
