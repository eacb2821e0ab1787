package sc.fiji.sd.fiji;

import java.awt.BorderLayout;
import java.io.File;
import java.util.List;

import javax.swing.JButton;
import javax.swing.JComboBox;
import javax.swing.JFileChooser;
import javax.swing.JPanel;
import javax.swing.JTextField;
import javax.swing.event.DocumentEvent;
import javax.swing.event.DocumentListener;

import org.scijava.Priority;
import org.scijava.plugin.Plugin;
import org.scijava.widget.InputWidget;
import org.scijava.widget.WidgetModel;

import sc.fiji.sd.imagej.ModelChoices;
import sc.fiji.sd.imagej.ModelDownloads;

/**
 * The model input of the Fiji commands in Fiji's Swing dialog: a drop-down of the models on this machine (the hub
 * cache's downloads, {@code Fiji.app/models}, added folders; with family, variant, weights and size) over the model
 * field and a Browse button. Choosing an entry writes its value into the field, which stays the command's
 * {@code model} input: macros read it and the recorder writes it as before ({@code model=[org/name]} or a folder).
 * <p>
 * A widget, not choices on the input: a plain command's choices are its annotation's constants, and only a
 * DynamicCommand may change them at run time, but a DynamicCommand is itself a Module, for which
 * {@code CommandService.run} returns null instead of a Future. Fiji's Swing dialog takes any widget whose component
 * is a {@code JPanel}; this one is chosen for inputs with the style {@link #STYLE} or {@link #SETTINGS_STYLE}, listed
 * after {@code directory} so that a user interface without it still shows a folder chooser.
 */
@Plugin(type = InputWidget.class, priority = Priority.HIGH)
public class ModelChooserWidget extends PanelWidget<File> {

	/** The generation commands' model: an empty field means the model chosen in Settings. */
	public static final String STYLE = "sd-model";
	/** Settings' model: an empty field means the shipped model. */
	public static final String SETTINGS_STYLE = "sd-settings-model";

	/** The Swing dialog's "Other" entry: the field is next to the drop-down there. */
	static final String OTHER = "Other folder (type it or browse)";

	private JComboBox<String> choice;
	private JTextField field;
	private ModelChoices choices;
	private boolean refreshing;

	@Override
	public boolean supports(WidgetModel model) {
		return super.supports(model) && model.isType(File.class) && (model.isStyle(STYLE) || model.isStyle(
			SETTINGS_STYLE));
	}

	@Override
	public void set(WidgetModel model) {
		super.set(model);
		choices = new ModelChoices(ModelDownloads.installed(), model.isStyle(SETTINGS_STYLE) ? ModelDownloads.SHIPPED
			: ModelChoices.AS_IN_SETTINGS, OTHER);
		choice = new JComboBox<>(choices.labels().toArray(new String[0]));
		field = new JTextField(30);
		JButton browse = new JButton("Browse...");
		JPanel row = new JPanel(new BorderLayout(4, 0));
		row.add(field, BorderLayout.CENTER);
		row.add(browse, BorderLayout.EAST);
		panel = new JPanel(new BorderLayout(0, 3));
		panel.add(choice, BorderLayout.NORTH);
		panel.add(row, BorderLayout.SOUTH);

		choice.addActionListener(e -> {
			if (refreshing) return;
			String value = choices.valueFor((String) choice.getSelectedItem());
			if (value != null) field.setText(value); // "other": keeps what is there
		});
		field.getDocument().addDocumentListener(new DocumentListener() {

			@Override
			public void insertUpdate(DocumentEvent e) {
				typed();
			}

			@Override
			public void removeUpdate(DocumentEvent e) {
				typed();
			}

			@Override
			public void changedUpdate(DocumentEvent e) {
				typed();
			}
		});
		browse.addActionListener(e -> {
			JFileChooser chooser = new JFileChooser(field.getText().isBlank() ? null : field.getText());
			chooser.setFileSelectionMode(JFileChooser.DIRECTORIES_ONLY);
			if (chooser.showOpenDialog(panel) == JFileChooser.APPROVE_OPTION) field.setText(chooser.getSelectedFile()
				.getPath());
		});
		refreshWidget();
	}

	/** The field changed (typed, browsed, or by a choice): the input follows, the drop-down shows what it names. */
	private void typed() {
		if (refreshing) return;
		refreshing = true;
		try {
			choice.setSelectedItem(choices.labelFor(field.getText()));
		}
		finally {
			refreshing = false;
		}
		updateModel();
	}

	/** The drop-down's entries, in order. */
	List<String> entries() {
		return choices.labels();
	}

	/** Selects an entry, as a user would. */
	void choose(String entry) {
		choice.setSelectedItem(entry);
	}

	/** What the drop-down shows now. */
	String chosen() {
		return (String) choice.getSelectedItem();
	}

	@Override
	public File getValue() {
		return new File(field.getText().trim());
	}

	@Override
	public void refreshWidget() {
		Object value = get().getValue();
		String text = value instanceof File file ? file.getPath() : value == null ? "" : value.toString();
		if (refreshing || text.equals(field.getText())) return;
		refreshing = true;
		try {
			field.setText(text);
			choice.setSelectedItem(choices.labelFor(text));
		}
		finally {
			refreshing = false;
		}
	}
}
