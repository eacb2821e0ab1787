package sc.fiji.sd.ij1;

import java.awt.Component;
import java.awt.Container;
import java.awt.Label;
import java.util.ArrayList;
import java.util.List;

/**
 * A GenericDialog's fields found by their labels, for tests that fill a dialog as a user would: a field's position
 * among the dialog's text fields or choices changes whenever a field is added before it, its label does not.
 */
final class DialogFields {

	private DialogFields() {}

	/**
	 * The first component of {@code type} after the label that starts with {@code label} (as shown: GenericDialog shows
	 * a macro key's underscores as spaces), in the dialog's order.
	 *
	 * @throws IllegalStateException when there is no such label or no such field after it
	 */
	static <T extends Component> T after(Container dialog, String label, Class<T> type) {
		List<Component> all = new ArrayList<>();
		flatten(dialog, all);
		for (int i = 0; i < all.size(); i++) {
			if (!(all.get(i) instanceof Label l) || !l.getText().startsWith(label)) continue;
			for (int j = i + 1; j < all.size(); j++)
				if (type.isInstance(all.get(j))) return type.cast(all.get(j));
		}
		throw new IllegalStateException("The dialog has no " + type.getSimpleName() + " labelled \"" + label + "\"");
	}

	private static void flatten(Container c, List<Component> out) {
		for (Component child : c.getComponents()) {
			out.add(child);
			if (child instanceof Container inner) flatten(inner, out);
		}
	}
}
