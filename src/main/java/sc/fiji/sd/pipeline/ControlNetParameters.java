package sc.fiji.sd.pipeline;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.model.ControlNetModel;
import sc.fiji.sd.provenance.ParametersText;
import sc.fiji.sd.provenance.Provenance;

/**
 * The ControlNets of a run in A1111's parameters text, as its ControlNet extension writes them, one quoted pair per
 * unit: {@code ControlNet 0: "Module: canny, Model: <name>, Weight: 1, Resize Mode: Just Resize, Low Vram: False,
 * Guidance Start: 0, Guidance End: 1, Pixel Perfect: False, Control Mode: Balanced"}. What we do is written as the
 * extension names it: the control image is resized to the output size without cropping ("Just Resize"), both CFG halves
 * get the residuals ("Balanced"); the preprocessor's own settings (Canny's thresholds) are the front end's and are
 * not written here.
 */
public final class ControlNetParameters {

	static final String KEY = "ControlNet ";

	/**
	 * One unit read back from a parameters text.
	 *
	 * @param model the ControlNet's name (its folder's name; a front end finds the folder)
	 */
	public record Entry(String module, String model, double weight, double start, double end) {}

	private ControlNetParameters() {}

	/** The pairs of {@code units} for a parameters text, in order (empty for none). */
	static Map<String, String> pairs(List<ControlNetUnit> units) {
		Map<String, String> out = new LinkedHashMap<>();
		for (int i = 0; i < units.size(); i++) {
			ControlNetUnit u = units.get(i);
			out.put(KEY + i, "\"Module: " + u.module() + ", Model: " + ControlNetModel.name(u.model()) + ", Weight: "
				+ Provenance.number(u.scale()) + ", Resize Mode: Just Resize, Low Vram: False, Guidance Start: "
				+ Provenance.number(u.start()) + ", Guidance End: " + Provenance.number(u.end())
				+ ", Pixel Perfect: False, Control Mode: Balanced\"");
		}
		return out;
	}

	/** {@code , ControlNet 0: "…", ControlNet 1: "…"} to append to a parameters text (empty for none). */
	static String text(List<ControlNetUnit> units) {
		StringBuilder sb = new StringBuilder();
		pairs(units).forEach((k, v) -> sb.append(", ").append(k).append(": ").append(v));
		return sb.toString();
	}

	/**
	 * The ControlNet units a parameters text names ({@code ControlNet 0}, {@code ControlNet 1}, … in order; A1111's
	 * texts included). Weight, start and end default to 1, 0 and 1 when absent.
	 *
	 * @throws StableDiffusionException when a unit has no model or a number that is not one
	 */
	public static List<Entry> parse(String parameters) {
		ParametersText text = ParametersText.parse(parameters);
		List<Entry> out = new ArrayList<>();
		for (int i = 0; text.get(KEY + i) != null; i++) {
			Map<String, String> unit = ParametersText.parse("Steps: 0, " + text.get(KEY + i)).values();
			String model = unit.get("Model");
			if (model == null || model.isBlank()) {
				throw new StableDiffusionException(KEY + i + " in the parameters text names no model.");
			}
			out.add(new Entry(unit.getOrDefault("Module", ControlNetUnit.NO_PREPROCESSOR), model.trim(),
				number(KEY + i + " Weight", unit.getOrDefault("Weight", "1")),
				number(KEY + i + " Guidance Start", unit.getOrDefault("Guidance Start", "0")),
				number(KEY + i + " Guidance End", unit.getOrDefault("Guidance End", "1"))));
		}
		return out;
	}

	private static double number(String key, String value) {
		return ParametersReplay.number(key, value);
	}
}
