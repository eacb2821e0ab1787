package sc.fiji.sd.fiji;

import java.util.List;

import org.scijava.Priority;
import org.scijava.plugin.Plugin;
import org.scijava.widget.InputWidget;

import sc.fiji.sd.imagej.Generators;

/**
 * The scheduler input of the Fiji commands in Fiji's Swing dialog: a drop-down of "default" and the core's sampler
 * names, read from the sampler registry when the dialog opens, so a new sampler needs no edit here.
 */
@Plugin(type = InputWidget.class, priority = Priority.HIGH)
public class SamplerChooserWidget extends NameChooserWidget {

	/** The style of a String input that names a sampler. */
	public static final String STYLE = "sd-sampler";

	@Override
	String style() {
		return STYLE;
	}

	@Override
	List<String> names() {
		return Generators.schedulerChoices();
	}

	@Override
	String fallback() {
		return Generators.DEFAULT_SCHEDULER;
	}
}
