package sc.fiji.sd.pipeline;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/**
 * The table of generation settings that every front end derives its options from: the ImageJ 1.x dialogs and macro
 * keys, the command line, the batch manifest's columns, the parameters text (and replaying it), the checks before a
 * model loads. A new setting is one entry here (added to {@link #ALL}) and the code that uses its value
 * ({@code request.setting(ENTRY)}); Fiji's commands declare it as an input of {@code fiji.GenerationCommand}
 * (SciJava reads inputs from fields), which {@code GenerationSettingsContractTest} checks.
 * <p>
 * The settings from before this table (prompt, steps, …) keep their own fields: their macro keys, flags and dialog
 * order are the contract with recorded macros and scripts.
 */
public final class GenerationSettings {

	private GenerationSettings() {}

	private static final Set<Mode> EVERY_MODE = EnumSet.allOf(Mode.class);

	/** SDXL's "original size" micro-conditioning (width × height); empty: the output size, as diffusers defaults. */
	public record Size(int width, int height) {}

	/** SDXL's "crop top-left" micro-conditioning, in pixels from the left and from the top. */
	public record Crop(int left, int top) {}

	/** Largest original size or crop SDXL is given: its time ids are pixels, and 8192 is well beyond its training. */
	static final int MAX_PIXELS = 8192;

	/** SDXL {@code time_ids}: the original image size the model is told (diffusers' {@code original_size}). */
	public static final GenerationSetting<Size> ORIGINAL_SIZE = GenerationSetting.text("original_size", "--original-size",
		"WxH", "SDXL: the original size the model is told, WIDTHxHEIGHT; empty: the output size", "Original size",
		Size.class, null, EVERY_MODE, GenerationSettings::size, s -> s.width() + "x" + s.height(), "1024x768");

	/** SDXL {@code time_ids}: the crop's top-left corner the model is told (diffusers' {@code crops_coords_top_left}). */
	public static final GenerationSetting<Crop> CROP_TOP_LEFT = GenerationSetting.text("crop", "--crop-top-left", "X,Y",
		"SDXL: the top-left corner of the crop the model is told, X,Y in pixels", "Crop top left", Crop.class,
		new Crop(0, 0), EVERY_MODE, GenerationSettings::crop, c -> c.left() + "," + c.top(), "16,8");

	/** SDXL refiner {@code time_ids}: the aesthetic score of the prompt half (diffusers' {@code aesthetic_score}). */
	public static final GenerationSetting<Double> AESTHETIC_SCORE = GenerationSetting.decimal("aesthetic_score",
		"--aesthetic-score", "SDXL refiner: the aesthetic score the prompt asks for, 0-10", "Aesthetic score", 6.0, 0, 10,
		EVERY_MODE);

	/**
	 * SDXL refiner {@code time_ids}: the aesthetic score of the negative half (diffusers' {@code
	 * negative_aesthetic_score}). Macro key {@code negative_aesthetic}: ImageJ finds a key after any non-letter, so
	 * {@code negative_aesthetic_score=} would also be read as {@code aesthetic_score=}.
	 */
	public static final GenerationSetting<Double> NEGATIVE_AESTHETIC_SCORE = GenerationSetting.decimal(
		"negative_aesthetic", "--negative-aesthetic-score", "SDXL refiner: the aesthetic score the negative prompt "
			+ "steers from, 0-10", "Negative aesthetic score", 2.5, 0, 10, EVERY_MODE);

	/** Every setting, in the order front ends show them. */
	public static final List<GenerationSetting<?>> ALL = List.of(ORIGINAL_SIZE, CROP_TOP_LEFT, AESTHETIC_SCORE,
		NEGATIVE_AESTHETIC_SCORE);

	/** The settings a command of that mode offers, in order. */
	public static List<GenerationSetting<?>> forMode(Mode mode) {
		return ALL.stream().filter(s -> s.appliesTo(mode)).toList();
	}

	/** The setting of that macro key, or null. */
	public static GenerationSetting<?> byKey(String key) {
		return ALL.stream().filter(s -> s.key().equals(key)).findFirst().orElse(null);
	}

	/** Checks every setting's value in the request (the core's checks before a model loads). */
	static void check(GenerationRequest request) {
		for (GenerationSetting<?> s : ALL) checkOne(s, request);
	}

	private static <T> void checkOne(GenerationSetting<T> s, GenerationRequest request) {
		s.check(request.setting(s));
	}

	/** ", Original size: 1024x1024, …" for each setting that differs from its default, for the parameters text. */
	static String parameters(GenerationRequest request) {
		StringBuilder sb = new StringBuilder();
		for (GenerationSetting<?> s : ALL) sb.append(parameter(s, request));
		return sb.toString();
	}

	private static <T> String parameter(GenerationSetting<T> s, GenerationRequest request) {
		T v = request.setting(s);
		return s.provenance() == null || s.isDefault(v) ? "" : ", " + s.parametersEntry(v);
	}

	private static Size size(String text) {
		int[] v = pair(text, "x", "original size", "WIDTHxHEIGHT, e.g. 1024x1024");
		if (v[0] < 1 || v[1] < 1 || v[0] > MAX_PIXELS || v[1] > MAX_PIXELS) {
			throw new StableDiffusionException("The original size \"" + text + "\" is not possible: give a width and a "
				+ "height from 1 to " + MAX_PIXELS + " pixels, e.g. 1024x1024 (or nothing for the output size).");
		}
		return new Size(v[0], v[1]);
	}

	private static Crop crop(String text) {
		int[] v = pair(text, ",", "crop top left", "X,Y in pixels, e.g. 0,0");
		if (v[0] < 0 || v[1] < 0 || v[0] > MAX_PIXELS || v[1] > MAX_PIXELS) {
			throw new StableDiffusionException("The crop top left \"" + text + "\" is not possible: give X,Y from 0 to "
				+ MAX_PIXELS + " pixels, e.g. 0,0.");
		}
		return new Crop(v[0], v[1]);
	}

	/** Two whole numbers separated by {@code separator}. */
	private static int[] pair(String text, String separator, String what, String form) {
		String[] parts = text.trim().toLowerCase(java.util.Locale.ROOT).split(java.util.regex.Pattern.quote(separator), -1);
		try {
			if (parts.length != 2) throw new NumberFormatException();
			return new int[] { Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()) };
		}
		catch (NumberFormatException e) {
			throw new StableDiffusionException("The " + what + " \"" + text + "\" is not " + form + ".");
		}
	}
}
