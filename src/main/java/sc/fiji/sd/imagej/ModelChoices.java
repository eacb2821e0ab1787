package sc.fiji.sd.imagej;

import java.util.ArrayList;
import java.util.List;

import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.model.ModelCatalog;

/**
 * The entries of a model chooser (ImageJ 1.x dialogs and Fiji's): what an empty model field means in that dialog,
 * the models on this machine with family, variant, weights and size, then "other folder"; and the model-field value
 * each stands for, which is what macros read and the recorder writes ({@code org/name} or a folder).
 */
public final class ModelChoices {

	/** The generation dialogs' entry for an empty model field: the model chosen in Settings. */
	public static final String AS_IN_SETTINGS = "As in Settings";

	private final List<String> labels = new ArrayList<>();
	private final List<String> values = new ArrayList<>();
	private final String other;

	/**
	 * @param empty the first entry, standing for an empty field ({@link ModelDownloads#SHIPPED} in Settings,
	 *          {@link #AS_IN_SETTINGS} in a generation dialog)
	 * @param other the last entry, for a folder typed or browsed to (its value is null: the field keeps it)
	 */
	public ModelChoices(List<ModelCatalog.LocalModel> installed, String empty, String other) {
		this.other = other;
		labels.add(empty);
		values.add("");
		for (ModelCatalog.LocalModel m : installed) {
			if (m.folder().equals(EmbeddedModel.path())) continue; // the empty entry in Settings
			labels.add(m.label());
			values.add(ModelDownloads.settingsValue(m));
		}
		labels.add(other);
		values.add(null);
	}

	public List<String> labels() {
		return labels;
	}

	/** The entry that stands for a model field's value (the "other" entry when none does). */
	public String labelFor(String value) {
		int i = values.indexOf(value == null ? "" : value.trim());
		return i < 0 ? other : labels.get(i);
	}

	/** The model field's value for an entry; null for the "other" entry (the field keeps what the user typed). */
	public String valueFor(String label) {
		int i = labels.indexOf(label);
		return i < 0 ? null : values.get(i);
	}
}
