package sc.fiji.sd.batch;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import com.google.gson.Gson;

import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.GenerationSetting;
import sc.fiji.sd.pipeline.GenerationSettings;

/**
 * One row of a batch manifest: a prompt and its settings, for {@code count} images with seeds {@code seed, seed + 1, …}.
 * Paths are resolved against the manifest's folder; null means "the default" (model: the command's, scheduler: the
 * model's). The mode follows from the files: a mask makes it inpainting, an image alone image to image.
 *
 * @param index 0-based position among the manifest's rows; names the outputs ({@code row0007-img00.png})
 * @param line line of the manifest where the row starts (for messages)
 * @param settings the values of {@link GenerationSettings} the row sets (columns named by their keys)
 * @param control the row's ControlNet, null when its {@code control} column is empty
 */
public record BatchRow(int index, int line, String prompt, String negative, long seed, int steps, double guidance,
	int width, int height, String scheduler, Path model, Path image, Path mask, double strength, int feather, int count,
	Map<GenerationSetting<?>, Object> settings, BatchControl control)
{

	public BatchRow {
		settings = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(settings));
	}

	public GenerationRequest.Mode mode() {
		return mask != null ? GenerationRequest.Mode.INPAINT
			: image != null ? GenerationRequest.Mode.IMAGE_TO_IMAGE : GenerationRequest.Mode.TEXT_TO_IMAGE;
	}

	@SuppressWarnings("unchecked")
	private static <T> String text(GenerationSetting<T> s, Object value) {
		return s.text((T) value);
	}

	/** Output file of image {@code i} of this row. */
	public String fileName(int i) {
		return String.format("row%04d-img%02d.png", index, i);
	}

	/**
	 * The row's settings as one line of JSON: kept with each result, so a re-run after the manifest was edited does not
	 * take an old output for the new row.
	 */
	public String spec() {
		Map<String, Object> m = new LinkedHashMap<>();
		m.put("prompt", prompt);
		m.put("negative", negative);
		m.put("seed", seed);
		m.put("steps", steps);
		m.put("guidance", guidance);
		m.put("width", width);
		m.put("height", height);
		m.put("scheduler", scheduler);
		m.put("model", model == null ? null : model.toString());
		m.put("image", image == null ? null : image.toString());
		m.put("mask", mask == null ? null : mask.toString());
		m.put("strength", strength);
		m.put("feather", feather);
		m.put("count", count);
		// only the settings the row sets: a row without them keeps the spec it had before they existed
		settings.forEach((s, v) -> m.put(s.key(), text(s, v)));
		if (control != null) control.addTo(m); // only then: the results of rows without one stay valid
		return new Gson().toJson(m);
	}
}
