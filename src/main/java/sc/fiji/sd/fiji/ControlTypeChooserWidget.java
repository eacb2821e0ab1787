package sc.fiji.sd.fiji;

import java.util.List;

import org.scijava.Priority;
import org.scijava.plugin.Plugin;
import org.scijava.widget.InputWidget;

import sc.fiji.sd.control.ControlPreprocessors;

/**
 * The {@code control_type} input of the Fiji commands in Fiji's Swing dialog: a drop-down of the ControlNet
 * pre-processors' names, read from their registry ({@link ControlPreprocessors}) when the dialog opens, as the
 * ImageJ 1.x dialog and the command line read them, so a new pre-processor appears everywhere with no edit here.
 */
@Plugin(type = InputWidget.class, priority = Priority.HIGH)
public class ControlTypeChooserWidget extends NameChooserWidget {

	/** The style of a String input that names a ControlNet pre-processor. */
	public static final String STYLE = "sd-control-type";

	@Override
	String style() {
		return STYLE;
	}

	@Override
	List<String> names() {
		return ControlPreprocessors.names();
	}

	@Override
	String fallback() {
		return ControlPreprocessors.DEFAULT;
	}
}
