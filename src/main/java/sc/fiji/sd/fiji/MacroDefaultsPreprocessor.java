package sc.fiji.sd.fiji;

import java.io.File;

import org.scijava.module.Module;
import org.scijava.module.ModuleItem;
import org.scijava.module.process.AbstractPreprocessorPlugin;
import org.scijava.module.process.PreprocessorPlugin;
import org.scijava.plugin.Plugin;
import org.scijava.widget.InputHarvester;

import ij.ImagePlus;
import ij.Macro;
import ij.WindowManager;

/**
 * Under a macro, the inputs of our commands that the macro line did not name take their defaults, as in ImageJ 1.x,
 * instead of opening a dialog for every image of a batch.
 * <p>
 * Fiji's legacy layer resolves only the keys present in the options (its macro preprocessor); the rest would go to
 * the file chooser and the input harvester. This runs after every filler and just before them (and before the
 * remembered values are loaded, so a macro means the same thing every time): each still-unresolved input keeps its
 * default value and is marked resolved. An input with no value at all is left to the dialog, as ImageJ 1.x asks
 * too: the image when none is open, the PNG path of Save as PNG.
 * <p>
 * "A macro runs" is ImageJ 1.x's own test: {@link Macro#getOptions()} is not null for this thread (in Fiji the
 * patched ImageJ also looks at the thread that started the command's thread, the macro's).
 */
@Plugin(type = PreprocessorPlugin.class, priority = InputHarvester.PRIORITY + 2)
public class MacroDefaultsPreprocessor extends AbstractPreprocessorPlugin {

	@Override
	public void process(Module module) {
		if (!ours(module) || Macro.getOptions() == null) return;
		for (ModuleItem<?> input : module.getInfo().inputs()) {
			String name = input.getName();
			if (module.isInputResolved(name)) continue;
			if (module.getInput(name) == null) {
				Object value = defaultValue(input);
				if (value == null) continue; // nothing to default to: the dialog asks, as ImageJ 1.x does
				module.setInput(name, value);
			}
			module.resolveInput(name);
		}
	}

	private static boolean ours(Module module) {
		return module.getInfo().getDelegateClassName().startsWith(MacroDefaultsPreprocessor.class.getPackageName() + ".");
	}

	private static Object defaultValue(ModuleItem<?> input) {
		if (ImagePlus.class.equals(input.getType())) return WindowManager.getCurrentImage();
		if (File.class.equals(input.getType())) return input.isRequired() ? null : new File("");
		return input.getDefaultValue();
	}
}
