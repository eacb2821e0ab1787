package sc.fiji.sd.fiji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.swing.JPanel;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scijava.Context;
import org.scijava.command.Command;
import org.scijava.command.CommandModule;
import org.scijava.command.CommandService;
import org.scijava.module.Module;
import org.scijava.module.ModuleService;
import org.scijava.prefs.PrefService;
import org.scijava.widget.AbstractInputPanel;
import org.scijava.widget.InputWidget;
import org.scijava.widget.WidgetService;

import ij.ImagePlus;
import ij.Prefs;
import sc.fiji.sd.hub.FakeHub;
import sc.fiji.sd.hub.HubClient;
import sc.fiji.sd.hub.HubEnvironment;
import sc.fiji.sd.hub.RepoId;
import sc.fiji.sd.imagej.ModelChoices;
import sc.fiji.sd.imagej.ModelDownloads;
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.model.ModelCatalog;
import sc.fiji.sd.pipeline.TestModels;

/**
 * The model chooser of the Fiji commands' dialogs, as Fiji's Swing dialog builds it (the widget service finds the
 * widget for the command's model input), headless: its entries are the catalog's, choosing one sets the command's
 * {@code model} input to what macros take, and the command run so records the same value and replays identically.
 */
class ModelChooserWidgetTest {

	private static final String MODEL_FOLDERS = "stable.diffusion.modelFolders";

	@TempDir
	Path dir;

	private Context context;
	private FakeHub hub;
	private HubEnvironment env;
	private Path folderModel;
	private String savedFolders;

	/** A panel like Fiji's SwingInputPanel (which is not on Maven Central): it holds JPanel widgets. */
	static final class SwingLikePanel extends AbstractInputPanel<JPanel, JPanel> {

		private final JPanel panel = new JPanel();

		@Override
		public void addWidget(InputWidget<?, JPanel> widget) {
			super.addWidget(widget);
			panel.add(widget.getComponent());
		}

		@Override
		public Class<JPanel> getWidgetComponentType() {
			return JPanel.class;
		}

		@Override
		public JPanel getComponent() {
			return panel;
		}

		@Override
		public Class<JPanel> getComponentType() {
			return JPanel.class;
		}
	}

	@BeforeEach
	void start() throws Exception {
		hub = new FakeHub(Path.of("models", EmbeddedModel.NAME), "");
		env = hub.environment(dir.resolve("hub"));
		ModelDownloads.environment = () -> env;
		new HubClient(env).download(RepoId.parse(FakeHub.REPO, ""), sc.fiji.sd.hub.DownloadListener.NONE,
			new sc.fiji.sd.hub.CancelToken());
		// a folder the user added, holding a model (another one than the download, which the catalog would merge)
		folderModel = TestModels.folder("optimum");
		savedFolders = Prefs.get(MODEL_FOLDERS, "");
		Prefs.set(MODEL_FOLDERS, folderModel.getParent().toString());
		context = new Context();
		context.service(PrefService.class).clear(TextToImageCommand.class);
	}

	@AfterEach
	void stop() {
		Prefs.set(MODEL_FOLDERS, savedFolders);
		ModelDownloads.environment = HubEnvironment::fromSystem;
		context.service(PrefService.class).clear(TextToImageCommand.class);
		context.dispose();
		hub.close();
	}

	/** The widget Fiji's dialog would show for the command's model input, on a fresh module of the command. */
	private ModelChooserWidget widget(Module module) {
		var model = context.service(WidgetService.class).createModel(new SwingLikePanel(), module, module.getInfo()
			.getInput("model"), List.of());
		return assertInstanceOf(ModelChooserWidget.class, context.service(WidgetService.class).create(model));
	}

	private Module module(Class<? extends Command> command) throws Exception {
		return context.service(ModuleService.class).createModule(context.service(CommandService.class).getCommand(
			command));
	}

	@Test
	void theEntriesAreTheCatalogsModelsBetweenTheEmptyEntryAndOther() throws Exception {
		List<String> catalog = new ArrayList<>();
		for (ModelCatalog.LocalModel m : ModelCatalog.discover(new HubClient(env).cache(), ModelDownloads
			.modelFolders()))
			if (!m.folder().equals(EmbeddedModel.path())) catalog.add(m.label());
		assertTrue(catalog.stream().anyMatch(l -> l.startsWith(FakeHub.REPO + "  [")), catalog.toString());
		assertTrue(catalog.stream().anyMatch(l -> l.startsWith("optimum  [")), catalog.toString());

		List<String> generation = new ArrayList<>(List.of(ModelChoices.AS_IN_SETTINGS));
		generation.addAll(catalog);
		generation.add(ModelChooserWidget.OTHER);
		for (var command : List.of(TextToImageCommand.class, ImageToImageCommand.class, InpaintCommand.class,
			OutpaintCommand.class))
			assertEquals(generation, widget(module(command)).entries(), command.getSimpleName());

		List<String> settings = new ArrayList<>(generation);
		settings.set(0, ModelDownloads.SHIPPED);
		assertEquals(settings, widget(module(SettingsCommand.class)).entries(), "Settings: empty is the shipped model");
	}

	@Test
	void choosingAnEntrySetsTheModelInputToWhatMacrosTake() throws Exception {
		Module module = module(TextToImageCommand.class);
		ModelChooserWidget widget = widget(module);
		String download = entry(widget, FakeHub.REPO + "  [");
		widget.choose(download);
		assertEquals(new File(FakeHub.REPO), module.getInput("model"), "a download is named by its repository id");
		widget.choose(entry(widget, "optimum  ["));
		assertEquals(folderModel.toFile(), module.getInput("model"), "a folder model by its folder");
		widget.choose(ModelChoices.AS_IN_SETTINGS);
		assertEquals(new File(""), module.getInput("model"), "empty: the model in Settings, recorded as model=");

		module.setInput("model", new File(FakeHub.REPO)); // e.g. remembered, or given by a script
		widget.refreshWidget();
		assertEquals(download, widget.chosen(), "the drop-down shows what the input names");
		module.setInput("model", dir.toFile());
		widget.refreshWidget();
		assertEquals(ModelChooserWidget.OTHER, widget.chosen());
	}

	/** Chosen in the dialog, run, recorded (the live input after the run), replayed as a macro: the same pixels. */
	@Test
	void aChosenModelIsRecordedAsItsIdAndReplaysToTheSamePixels() throws Exception {
		Module module = module(TextToImageCommand.class);
		ModelChooserWidget widget = widget(module);
		widget.choose(entry(widget, FakeHub.REPO + "  ["));
		Map<String, Object> inputs = Map.of("prompt", "a red circle", "steps", 2, "seed", 5L, "device", "cpu");
		Module ran = context.service(ModuleService.class).run(module, true, inputs).get();
		ImagePlus first = (ImagePlus) ran.getOutput("result");
		assertNotNull(first, "cancelled: " + ((CommandModule) ran).getCancelReason());
		Object recorded = ran.getInput("model"); // what Fiji's macro recorder (a postprocessor) reads
		assertEquals(new File(FakeHub.REPO), recorded);

		var replay = new java.util.HashMap<String, Object>(inputs);
		replay.put("model", ((File) recorded).getPath()); // a macro gives text: model=[test-org/tiny-sd-shapes]
		CommandModule again = context.service(CommandService.class).run(TextToImageCommand.class, true, replay).get();
		ImagePlus second = (ImagePlus) again.getOutput("result");
		assertNotNull(second, "cancelled: " + again.getCancelReason());
		assertArrayEquals((int[]) first.getProcessor().getPixels(), (int[]) second.getProcessor().getPixels());
	}

	private static String entry(ModelChooserWidget widget, String prefix) {
		return widget.entries().stream().filter(e -> e.startsWith(prefix)).findFirst().orElseThrow(
			() -> new AssertionError("no entry " + prefix + " in " + widget.entries()));
	}
}
