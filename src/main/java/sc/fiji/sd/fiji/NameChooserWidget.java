package sc.fiji.sd.fiji;

import java.awt.BorderLayout;
import java.util.List;

import javax.swing.DefaultComboBoxModel;
import javax.swing.JComboBox;
import javax.swing.JPanel;

import org.scijava.widget.WidgetModel;

/**
 * A String input shown in Fiji's Swing dialog as a drop-down of names read from one of the core's registries when
 * the dialog opens, so a new entry there needs no edit here. (Choices on the input would have to be annotation
 * constants; see {@link ModelChooserWidget} for why not a DynamicCommand.) The input stays a plain string: macros give
 * any name the core accepts (an alias too), and the core checks it with its own message.
 */
abstract class NameChooserWidget extends PanelWidget<String> {

	private JComboBox<String> choice;

	/** The style of the inputs this widget shows. */
	abstract String style();

	/** The names, in the order the drop-down offers them. */
	abstract List<String> names();

	/** The name shown when the input has no value. */
	abstract String fallback();

	@Override
	public boolean supports(WidgetModel model) {
		return super.supports(model) && model.isType(String.class) && model.isStyle(style());
	}

	@Override
	public void set(WidgetModel model) {
		super.set(model);
		choice = new JComboBox<>(names().toArray(new String[0]));
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
		String name = value == null ? fallback() : value.toString();
		// a name the list does not hold (a diffusers class name, an alias from a script): shown, not replaced
		if (((DefaultComboBoxModel<String>) choice.getModel()).getIndexOf(name) < 0) choice.addItem(name);
		if (!name.equals(choice.getSelectedItem())) choice.setSelectedItem(name);
	}
}
