package sc.fiji.sd.fiji;

import java.awt.BorderLayout;
import java.util.List;

import javax.swing.JComboBox;
import javax.swing.JPanel;

import org.scijava.Priority;
import org.scijava.plugin.Plugin;
import org.scijava.widget.InputWidget;
import org.scijava.widget.WidgetModel;

import sc.fiji.sd.imagej.Generators;

/**
 * The scheduler input of the Fiji commands in Fiji's Swing dialog: a drop-down of "default" and the core's sampler
 * names, read from the sampler registry when the dialog opens, so a new sampler needs no edit here. (Choices on the
 * input would have to be annotation constants; see {@link ModelChooserWidget} for why not a DynamicCommand.) The
 * input stays a plain string: macros give any name the core accepts, and the core checks it.
 */
@Plugin(type = InputWidget.class, priority = Priority.HIGH)
public class SamplerChooserWidget extends PanelWidget<String> {

	/** The style of a String input that names a sampler. */
	public static final String STYLE = "sd-sampler";

	private JComboBox<String> choice;

	@Override
	public boolean supports(WidgetModel model) {
		return super.supports(model) && model.isType(String.class) && model.isStyle(STYLE);
	}

	@Override
	public void set(WidgetModel model) {
		super.set(model);
		choice = new JComboBox<>(Generators.schedulerChoices().toArray(new String[0]));
		panel = new JPanel(new BorderLayout());
		panel.add(choice, BorderLayout.CENTER);
		refreshWidget();
		choice.addActionListener(e -> updateModel());
	}

	/** The drop-down's entries, in order. */
	List<String> entries() {
		List<String> entries = new java.util.ArrayList<>();
		for (int i = 0; i < choice.getItemCount(); i++)
			entries.add(choice.getItemAt(i));
		return entries;
	}

	@Override
	public String getValue() {
		return (String) choice.getSelectedItem();
	}

	@Override
	public void refreshWidget() {
		Object value = get().getValue();
		String name = value == null ? Generators.DEFAULT_SCHEDULER : value.toString();
		// a name the list does not hold (a diffusers class name from a script): shown, not replaced
		if (((javax.swing.DefaultComboBoxModel<String>) choice.getModel()).getIndexOf(name) < 0) choice.addItem(name);
		if (!name.equals(choice.getSelectedItem())) choice.setSelectedItem(name);
	}
}
