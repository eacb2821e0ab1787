package sc.fiji.sd.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scijava.Context;
import org.scijava.command.Command;
import org.scijava.command.CommandService;
import org.scijava.module.Module;
import org.scijava.module.ModuleItem;
import org.scijava.module.ModuleRunner;
import org.scijava.module.ModuleService;
import org.scijava.module.process.PostprocessorPlugin;
import org.scijava.module.process.PreprocessorPlugin;
import org.scijava.plugin.PluginService;
import org.scijava.prefs.PrefService;

import ij.ImagePlus;
import ij.Macro;
import ij.gui.Roi;
import ij.process.ColorProcessor;
import sc.fiji.sd.imagej.FakeGeneratorAccess;
import sc.fiji.sd.imagej.Generation;
import sc.fiji.sd.imagej.Settings;

/**
 * What Fiji's legacy layer does with our commands (REFERENCE §8), checked with scijava-common alone: a macro line
 * resolves only the keys it names (here: the inputs given), the module runs with every pre- and post-processor on a
 * thread that carries macro options, as ImageJ 1.x's macro threads do. Then no input may stay unresolved (it would
 * open a dialog in Fiji) and every input has a value after run() (the recorder skips null ones, and a line without
 * the key replays through a dialog).
 */
class MacroContractTest {

	@TempDir
	Path dir;

	private Context context;

	@BeforeEach
	void start() {
		context = new Context();
		context.service(StableDiffusionService.class).setGenerator(FakeGeneratorAccess.create());
		clearPrefs();
	}

	@AfterEach
	void stop() {
		clearPrefs();
		Settings.defaults().save();
		context.dispose();
	}

	private void clearPrefs() {
		for (var c : List.of(TextToImageCommand.class, ImageToImageCommand.class, InpaintCommand.class, OutpaintCommand.class,
			SavePngCommand.class, SettingsCommand.class))
			context.service(PrefService.class).clear(c);
	}

	/** Runs a command as the legacy layer would for a macro line naming only {@code given}. */
	private Module runAsMacroLine(Class<? extends Command> command, String options, Map<String, Object> given)
		throws Exception
	{
		return runAsMacroLine(command, options, given, null);
	}

	private Module runAsMacroLine(Class<? extends Command> command, String options, Map<String, Object> given,
		ImagePlus current) throws Exception
	{
		Module module = context.service(ModuleService.class).createModule(
			context.service(CommandService.class).getCommand(command));
		given.forEach((name, value) -> {
			module.setInput(name, value);
			module.resolveInput(name);
		});
		PluginService plugins = context.service(PluginService.class);
		List<PreprocessorPlugin> pre = plugins.createInstancesOfType(PreprocessorPlugin.class);
		List<PostprocessorPlugin> post = plugins.createInstancesOfType(PostprocessorPlugin.class);
		Throwable[] failure = new Throwable[1];
		// ImageJ 1.x runs macros on threads named Run$_…, where Macro.getOptions() answers.
		Thread macro = new Thread(() -> new ModuleRunner(context, module, pre, post).run(), "Run$_test macro");
		macro.setUncaughtExceptionHandler((t, e) -> failure[0] = e);
		if (options != null) Macro.setOptions(macro, options);
		if (current != null) ij.WindowManager.setTempCurrentImage(macro, current); // the macro's current image
		macro.start();
		macro.join();
		Macro.setOptions(macro, null);
		if (failure[0] != null) throw new AssertionError(failure[0]);
		return module;
	}

	private static List<String> unresolvedOrNull(Module module) {
		List<String> bad = new ArrayList<>();
		for (ModuleItem<?> input : module.getInfo().inputs()) {
			String name = input.getName();
			if (!module.isInputResolved(name)) bad.add(name + " (unresolved)");
			else if (module.getInput(name) == null) bad.add(name + " (null)");
		}
		return bad;
	}

	private static ImagePlus photo() {
		ImagePlus imp = new ImagePlus("photo", new ColorProcessor(32, 32));
		imp.setRoi(new Roi(4, 4, 10, 10));
		return imp;
	}

	@Test
	void theReadmesMacroLinesLeaveNoInputForADialogAndEveryInputHasAValueAfterRun() throws Exception {
		String options = "prompt=[a red circle] steps=2 seed=42";
		Map<Class<? extends Command>, Map<String, Object>> runs = new LinkedHashMap<>();
		runs.put(TextToImageCommand.class, Map.of("prompt", "a red circle", "steps", 2, "seed", 42L));
		runs.put(ImageToImageCommand.class, Map.of("image", photo(), "prompt", "a red circle", "seed", 42L));
		runs.put(InpaintCommand.class, Map.of("image", photo(), "prompt", "a red circle"));
		runs.put(OutpaintCommand.class, Map.of("image", photo(), "prompt", "a red circle", "right", 8));
		runs.put(SettingsCommand.class, Map.of("device", "cpu"));
		for (var run : runs.entrySet()) {
			Module m = runAsMacroLine(run.getKey(), options, run.getValue());
			assertEquals(List.of(), unresolvedOrNull(m), run.getKey().getSimpleName());
			if (m.getInfo().getOutput("result") != null)
				assertNotNull(m.getOutput("result"), run.getKey().getSimpleName() + " made no image");
		}
	}

	@Test
	void missingKeysTakeTheDefaultsNotTheLastValues() throws Exception {
		Module m = runAsMacroLine(TextToImageCommand.class, "prompt=x", Map.of("prompt", "x", "seed", 1L));
		assertEquals(20, m.getInput("steps"));
		assertEquals(7.0, m.getInput("guidance"));
		assertEquals("default", m.getInput("scheduler"));
		assertEquals("", ((File) m.getInput("model")).getPath(), "model: the one in Settings, recorded as model=");
		assertEquals("default", m.getInput("device"));
	}

	@Test
	void saveAsPngTakesTheCurrentImageAndAPathLeftOutIsStillAskedFor() throws Exception {
		ImagePlus image = photo();
		image.setProperty(Generation.PARAMETERS_PROPERTY, "x\nSteps: 2, Seed: 1, Size: 32x32, Model: m");
		Path file = dir.resolve("saved.png");
		Module m = runAsMacroLine(SavePngCommand.class, "path=[" + file + "]", Map.of("path", file.toFile()), image);
		assertEquals(image, m.getInput("image"));
		assertTrue(java.nio.file.Files.exists(file), "saved");
		Module noPath = runAsMacroLine(SavePngCommand.class, "x=1", Map.of("image", image));
		assertFalse(noPath.isInputResolved("path"), "no default for the file to write: the dialog asks, as in ImageJ 1.x");
	}

	@Test
	void withoutAMacroTheDialogStillAsks() throws Exception {
		Module m = runAsMacroLine(TextToImageCommand.class, null, Map.of("prompt", "x"));
		assertFalse(m.isInputResolved("steps"), "interactive: the dialog shows the inputs");
	}

	@Test
	void afterAnInteractiveRunEveryInputHasAValueForTheRecorderTheModelAsAnEmptyPath() throws Exception {
		// The dialog leaves the model empty (null): the recorder would skip it and the line would replay with a
		// folder chooser. After run() it is an empty path, recorded as model=.
		Map<String, Object> given = new java.util.HashMap<>(Map.of("prompt", "x", "seed", 3L));
		given.put("model", null);
		Module m = runAsMacroLine(TextToImageCommand.class, null, given);
		for (ModuleItem<?> input : m.getInfo().inputs())
			assertNotNull(m.getInput(input.getName()), input.getName());
		assertEquals("", m.getInput("model").toString());
	}
}
