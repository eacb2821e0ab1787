package sc.fiji.sd.ij1;

import java.awt.Choice;
import java.awt.FlowLayout;
import java.awt.Label;
import java.awt.Panel;
import java.awt.TextField;
import java.util.List;

import ij.gui.GenericDialog;
import sc.fiji.sd.imagej.ModelChoices;
import sc.fiji.sd.imagej.ModelDownloads;
import sc.fiji.sd.model.ModelCatalog;

/**
 * A drop-down of the models on this machine (the shipped one, the hub cache's downloads, {@code Fiji.app/models},
 * added folders) with family, variant, weights and size, that fills a dialog's model field: the field stays what
 * macros read and the recorder writes ({@code model=[org/name]} or a folder); the drop-down is a plain panel, so it
 * is neither read from a macro nor recorded.
 */
public final class ModelChooser {

	public static final String OTHER = "Other folder (type it or browse below)";
	/** The generation dialogs' entry for an empty model field: the model chosen in Settings. */
	public static final String AS_IN_SETTINGS = ModelChoices.AS_IN_SETTINGS;

	private final ModelChoices choices;

	/** The Settings entries: shipped model, discovered models, other folder. */
	public ModelChooser(List<ModelCatalog.LocalModel> installed) {
		this(installed, ModelDownloads.SHIPPED);
	}

	/** The entries: {@code empty} (what an empty field means in that dialog), discovered models, other folder. */
	public ModelChooser(List<ModelCatalog.LocalModel> installed, String empty) {
		choices = new ModelChoices(installed, empty, OTHER);
	}

	public List<String> labels() { return choices.labels(); }

	/** The entry that stands for a model field's value ({@link #OTHER} when none does). */
	public String labelFor(String value) {
		return choices.labelFor(value);
	}

	/** The model field's value for an entry; null for {@link #OTHER} (the field keeps what the user typed). */
	public String valueFor(String label) {
		return choices.valueFor(label);
	}

	/** Adds the drop-down to the dialog; call {@link #bind} once the model field exists. */
	public Choice addTo(GenericDialog gd, String current) {
		Panel panel = new Panel(new FlowLayout(FlowLayout.LEFT, 0, 0));
		panel.add(new Label("Model "));
		Choice choice = new Choice();
		labels().forEach(choice::add);
		choice.select(labelFor(current));
		panel.add(choice);
		gd.addPanel(panel);
		return choice;
	}

	/**
	 * Adds the model field (a folder field; a text field in a headless dialog, which has no folder widget; both read
	 * the macro key {@code model}) with the drop-down of installed models above it when {@code offer}, whose first
	 * entry {@code empty} stands for an empty field.
	 */
	static void addModelField(GenericDialog gd, String label, String current, boolean offer, String empty) {
		ModelChooser chooser = offer && !Dialogs.headless() ? new ModelChooser(ModelDownloads.installed(), empty) : null;
		Choice choice = chooser == null ? null : chooser.addTo(gd, current);
		if (Dialogs.headless()) gd.addStringField(label, current, 40);
		else gd.addDirectoryField(label, current, 40);
		if (chooser != null) chooser.bind(choice, (TextField) gd.getStringFields().lastElement());
	}

	/** Choosing an entry writes its value into the model field. */
	public void bind(Choice choice, TextField field) {
		choice.addItemListener(e -> {
			String value = valueFor(choice.getSelectedItem());
			if (value != null) field.setText(value);
		});
	}
}
