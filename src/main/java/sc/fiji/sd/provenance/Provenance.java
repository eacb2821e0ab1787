package sc.fiji.sd.provenance;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * How an image was made, in the form users know from AUTOMATIC1111 (its "PNG Info" tab and most image viewers parse
 * the {@code parameters} text), plus a plain statement that the image is AI-generated.
 */
public final class Provenance {

	/** PNG text key A1111 and ComfyUI readers look for. */
	public static final String PARAMETERS_KEY = "parameters";
	public static final String AI_GENERATED_KEY = "AI-generated";
	public static final String SOFTWARE = "Stable Diffusion for Fiji";

	/** Keys A1111 writes between {@code Model} and {@code Denoising strength}. */
	private static final java.util.Set<String> SEED_KEYS = java.util.Set.of("Variation seed", "Variation seed strength",
		"Seed resize from");

	private Provenance() {}

	/**
	 * The A1111 {@code parameters} text:
	 * {@code <prompt>\nNegative prompt: <neg>\nSteps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7,
	 * Seed: 123, Size: 512x512, Model: <name>, Denoising strength: 0.6}. The negative line is left out when empty; the
	 * schedule type only for Karras samplers; the denoising strength only for image to image and inpainting
	 * ({@code denoisingStrength} null otherwise).
	 */
	public static String parameters(String prompt, String negativePrompt, int steps, String sampler, double cfgScale,
		long seed, int width, int height, String model, Double denoisingStrength)
	{
		return parameters(prompt, negativePrompt, steps, sampler, cfgScale, seed, width, height, model,
			denoisingStrength, Map.of());
	}

	/**
	 * {@link #parameters(String, String, int, String, double, long, int, int, String, Double)} with more
	 * {@code key: value} pairs in A1111's order: its seed keys ({@code Variation seed}, {@code Variation seed strength},
	 * {@code Seed resize from}) before {@code Denoising strength}, the others ({@code Hires upscale}, …) after it.
	 */
	public static String parameters(String prompt, String negativePrompt, int steps, String sampler, double cfgScale,
		long seed, int width, int height, String model, Double denoisingStrength, Map<String, String> extra)
	{
		StringBuilder sb = new StringBuilder(prompt == null ? "" : prompt);
		if (negativePrompt != null && !negativePrompt.isEmpty()) sb.append("\nNegative prompt: ").append(negativePrompt);
		sb.append("\nSteps: ").append(steps);
		String name = sampler == null ? "" : sampler.trim();
		String schedule = null;
		if (name.endsWith(" Karras")) {
			schedule = "Karras";
			name = name.substring(0, name.length() - " Karras".length());
		}
		if (name.equals("PNDM")) name = "PLMS"; // A1111 knows this family only as PLMS
		sb.append(", Sampler: ").append(name);
		if (schedule != null) sb.append(", Schedule type: ").append(schedule);
		sb.append(", CFG scale: ").append(number(cfgScale));
		sb.append(", Seed: ").append(seed);
		sb.append(", Size: ").append(width).append('x').append(height);
		sb.append(", Model: ").append(model);
		extra.forEach((k, v) -> { if (SEED_KEYS.contains(k)) sb.append(", ").append(k).append(": ").append(v); });
		if (denoisingStrength != null) sb.append(", Denoising strength: ").append(number(denoisingStrength));
		extra.forEach((k, v) -> { if (!SEED_KEYS.contains(k)) sb.append(", ").append(k).append(": ").append(v); });
		return sb.toString();
	}

	/**
	 * The PNG text chunks for an output: parameters, software, and the AI-generated statement. Every front end writes
	 * these (the CLI and Save as PNG with Parameters in ImageJ and Fiji).
	 */
	public static Map<String, String> pngText(String parameters, String model) {
		Map<String, String> text = new LinkedHashMap<>();
		text.put(PARAMETERS_KEY, parameters);
		text.put("Software", SOFTWARE);
		text.put(AI_GENERATED_KEY, "true");
		text.put("Comment", "AI-generated image, made with Stable Diffusion"
			+ (model == null || model.isEmpty() ? "" : " (model " + model + ")") + " by " + SOFTWARE + ".");
		return text;
	}

	/**
	 * The model named in a parameters text (its last line's {@code Model: <name>}), so a front end that only has the
	 * text (an image's Info, a slice label) writes the same chunks as one that has the model; null when absent.
	 */
	public static String modelOf(String parameters) {
		if (parameters == null) return null;
		String last = parameters.substring(parameters.lastIndexOf('\n') + 1);
		java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?:^|, )Model: ([^,]*)").matcher(last);
		return m.find() ? m.group(1).trim() : null;
	}

	/** 7 → "7", 7.5 → "7.5", 0.6 → "0.6" (A1111 style: no trailing zeros, no exponent). */
	public static String number(double v) {
		if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
		return new BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString().toLowerCase(Locale.ROOT);
	}
}
