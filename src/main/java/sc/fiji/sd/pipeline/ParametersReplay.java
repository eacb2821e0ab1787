package sc.fiji.sd.pipeline;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.provenance.ParametersText;

/**
 * A request from an A1111 parameters text (a PNG's {@code parameters}, an image's Info), to make the image again:
 * prompt, negative prompt, steps, sampler, CFG scale, seed, size, denoising strength, variation seed and strength, and
 * the {@link GenerationSettings} it names.
 * Image to image and inpainting need their input images set on the builder; the ControlNet units
 * ({@code ControlNet 0: "Module: …, Model: …"}) need their images and folders too: {@link ControlNetParameters#parse}
 * reads their settings.
 */
public final class ParametersReplay {

	private ParametersReplay() {}

	/** A builder holding every setting the text names; what it leaves out keeps the builder's default. */
	public static GenerationRequest.Builder builder(String parameters) {
		ParametersText text = ParametersText.parse(parameters);
		GenerationRequest.Builder b = GenerationRequest.builder().prompt(text.prompt())
			.negativePrompt(text.negativePrompt());
		String v;
		if ((v = text.get("Steps")) != null) b.steps((int) number("Steps", v));
		if ((v = text.get("CFG scale")) != null) b.guidance(number("CFG scale", v));
		if ((v = text.get("Seed")) != null) b.seed((long) number("Seed", v));
		if ((v = text.get("Sampler")) != null) {
			String schedule = text.get("Schedule type");
			b.scheduler(schedule != null && schedule.equals("Karras") ? v + " Karras" : v);
		}
		if ((v = text.get("Size")) != null) {
			String[] wh = v.split("x");
			if (wh.length != 2) throw new StableDiffusionException("Size \"" + v + "\" is not WIDTHxHEIGHT.");
			b.size((int) number("Size", wh[0]), (int) number("Size", wh[1]));
		}
		if ((v = text.get("Variation seed")) != null) b.variationSeed((long) number("Variation seed", v));
		if ((v = text.get("Variation seed strength")) != null) {
			b.variationStrength(number("Variation seed strength", v));
		}
		if ((v = text.get("Denoising strength")) != null) b.strength(number("Denoising strength", v));
		for (GenerationSetting<?> s : GenerationSettings.ALL) {
			if (s.provenance() != null && (v = text.get(s.provenance())) != null) b.settings(java.util.Map.of(s, v));
		}
		return b;
	}

	static double number(String key, String value) {
		try {
			return Double.parseDouble(value.trim());
		}
		catch (NumberFormatException e) {
			throw new StableDiffusionException(key + " \"" + value + "\" in the parameters text is not a number.");
		}
	}
}
