package sc.fiji.sd.fiji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.scijava.Context;
import org.scijava.command.CommandInfo;
import org.scijava.command.CommandModule;
import org.scijava.command.CommandService;
import org.scijava.module.ModuleItem;
import org.scijava.prefs.PrefService;

import ij.ImagePlus;
import ij.gui.Roi;
import ij.process.ByteProcessor;
import sc.fiji.sd.imagej.FakeGeneratorAccess;

/**
 * The Fiji (SciJava) commands, run headless through CommandService in a plain scijava-common Context, with the
 * pipeline replaced by a fake (the end-to-end runs with the real model are in the end-to-end tests).
 */
class CommandsTest {

	private Context context;
	private CommandService commands;

	@BeforeEach
	void start() {
		context = new Context();
		commands = context.service(CommandService.class);
		context.service(PrefService.class).clear(TextToImageCommand.class);
		context.service(StableDiffusionService.class).setGenerator(FakeGeneratorAccess.create());
	}

	@AfterEach
	void stop() {
		context.service(PrefService.class).clear(TextToImageCommand.class);
		context.dispose();
	}

	private CommandModule run(Class<? extends org.scijava.command.Command> command, Object... inputs) throws Exception {
		Map<String, Object> map = new HashMap<>();
		for (int i = 0; i < inputs.length; i += 2)
			map.put((String) inputs[i], inputs[i + 1]);
		return commands.run(command, true, map).get();
	}

	@Test
	void menuLabelsMatchThePluginsConfigEntries() throws Exception {
		// One label, two front ends: Fiji runs the SciJava command, plain ImageJ the plugins.config PlugIn.
		Set<String> config = new TreeSet<>();
		try (var in = new BufferedReader(new InputStreamReader(getClass().getResourceAsStream("/plugins.config"),
			StandardCharsets.UTF_8))) {
			Matcher m;
			for (String line; (line = in.readLine()) != null;)
				if ((m = Pattern.compile("^Plugins>Stable Diffusion, \"([^\"]+\\.\\.\\.)\"").matcher(line)).find())
					config.add(m.group(1));
		}
		Set<String> scijava = new TreeSet<>();
		for (CommandInfo info : commands.getCommands()) {
			var path = info.getMenuPath();
			if (path != null && path.size() == 3 && path.get(0).getName().equals("Plugins")
				&& path.get(1).getName().equals("Stable Diffusion")) scijava.add(path.getLeaf().getName());
		}
		assertEquals(Set.of("Text to Image...", "Image to Image...", "Inpaint...", "Outpaint...",
			"Save as PNG with Parameters...", "Stable Diffusion Settings...", "Download Model..."), scijava);
		assertEquals(scijava, config);
	}

	/** An input of the settings table: checked by GenerationSettingsContractTest, not pinned here. */
	private static boolean tableSetting(ModuleItem<?> item) {
		return sc.fiji.sd.pipeline.GenerationSettings.byKey(item.getName()) != null;
	}

	@Test
	void inputNamesAreTheSingleWordMacroKeys() {
		List<String> names = new java.util.ArrayList<>();
		for (ModuleItem<?> item : commands.getCommand(InpaintCommand.class).inputs())
			if (!item.getType().getName().startsWith("org.scijava") && !item.getType().equals(StableDiffusionService.class)
				&& !tableSetting(item)) names.add(item.getName());
		assertEquals(List.of("image", "prompt", "negative", "steps", "guidance", "seed", "subseed", "variation", "scheduler", "strength", "batch",
			"feather", "output", "channels", "stack", "preview", "control", "control_type", "controlnet", "control_scale",
			"control_start", "control_end", "control_low", "control_high", "show_control", "model", "device"), names);
		List<String> outpaint = new java.util.ArrayList<>();
		for (ModuleItem<?> item : commands.getCommand(OutpaintCommand.class).inputs())
			if (!item.getType().getName().startsWith("org.scijava") && !item.getType().equals(StableDiffusionService.class)
				&& !tableSetting(item)) outpaint.add(item.getName());
		assertEquals(List.of("image", "prompt", "negative", "steps", "guidance", "seed", "subseed", "variation", "left", "right", "top", "bottom",
			"scheduler", "strength", "batch", "feather", "output", "channels", "stack", "preview", "control", "control_type",
			"controlnet", "control_scale", "control_start", "control_end", "control_low", "control_high", "show_control",
			"model", "device"), outpaint);
		var settings = new TreeSet<String>();
		commands.getCommand(SettingsCommand.class).inputs().forEach(i -> settings.add(i.getName()));
		assertTrue(settings.containsAll(Set.of("model", "device", "threads")), settings.toString());
		for (String key : outpaint) // and the ControlNet's (control_type, show_control…), as in ImageJ 1.x
			assertTrue(key.matches("[a-z]+|(show_)?control_?[a-z]*"), key);
		for (var command : List.of(ImageToImageCommand.class, InpaintCommand.class, OutpaintCommand.class)) {
			assertEquals(List.of(sc.fiji.sd.imagej.Parameters.OUTPUT_CHOICES),
				commands.getCommand(command).getInput("output", String.class).getChoices(), "the ImageJ 1.x dialog's");
			assertEquals(List.of(sc.fiji.sd.imagej.Parameters.CHANNELS_CHOICES),
				commands.getCommand(command).getInput("channels", String.class).getChoices());
		}
		// Images are never persisted: a remembered ImagePlus breaks the next run.
		assertTrue(!commands.getCommand(InpaintCommand.class).getInput("image").isPersisted());
	}

	@Test
	void textToImageReturnsTheResultAndWritesTheDrawnSeedBackForTheRecorder() throws Exception {
		CommandModule m = run(TextToImageCommand.class, "prompt", "a red circle", "steps", 3, "seed", -1L,
			"scheduler", "Euler a");
		ImagePlus result = (ImagePlus) m.getOutput("result");
		assertNotNull(result, "cancelled: " + m.getCancelReason());
		long seed = (Long) m.getInput("seed");
		assertTrue(seed >= 0, "seed recorded as " + seed);
		assertEquals("a red circle (seed " + seed + ")", result.getTitle());
		assertTrue(result.getInfoProperty().contains("AI-generated"));
	}

	/** The core's validator decides, as in ImageJ 1.x and on the command line: only −1 draws a seed. */
	@Test
	void aNegativeSeedOtherThanMinusOneCancelsWithTheCoresMessage() throws Exception {
		CommandModule m = run(TextToImageCommand.class, "prompt", "x", "steps", 3, "seed", -5L);
		assertTrue(m.isCanceled());
		assertTrue(m.getCancelReason().contains("Seed -5 is not possible"), m.getCancelReason());
		assertNull(m.getOutput("result"));
	}

	/**
	 * The commands hand their inputs to the shared code by name (GenerationCommand#parameters): every option input is
	 * a field of Parameters, with the same type (a folder is its path), so none is silently dropped.
	 */
	@Test
	void everyOptionInputIsAParametersFieldOfTheSameName() throws Exception {
		for (var command : List.of(TextToImageCommand.class, ImageToImageCommand.class, InpaintCommand.class,
			OutpaintCommand.class))
			for (ModuleItem<?> input : commands.getCommand(command).inputs()) {
				if (input.getName().equals("image") || input.getType() == Context.class
					|| org.scijava.service.Service.class.isAssignableFrom(input.getType())) continue; // not options
				if (tableSetting(input)) continue; // Parameters.settings (GenerationSettingsContractTest)
				var field = sc.fiji.sd.imagej.Parameters.class.getField(input.getName());
				Class<?> expected = input.getType() == java.io.File.class ? String.class : input.getType();
				assertEquals(expected, field.getType(), command.getSimpleName() + " " + input.getName());
			}
	}

	/** The generating commands: each has the same option inputs. */
	private static final List<Class<? extends org.scijava.command.Command>> GENERATING = List.of(TextToImageCommand.class,
		ImageToImageCommand.class, InpaintCommand.class, OutpaintCommand.class);

	/** The widget Fiji's dialog shows for a command's input: the one the widget service finds for it. */
	private NameChooserWidget dropDown(Class<? extends org.scijava.command.Command> command, String input) {
		var widgets = context.service(org.scijava.widget.WidgetService.class);
		var module = context.service(org.scijava.module.ModuleService.class).createModule(commands.getCommand(command));
		return (NameChooserWidget) widgets.create(widgets.createModel(new ModelChooserWidgetTest.SwingLikePanel(), module,
			module.getInfo().getInput(input), List.of()));
	}

	/** Fiji's dialog shows the widget the widget service finds for the input: a drop-down of the core's samplers. */
	@Test
	void theSchedulerDropDownOffersTheCoreSamplers() throws Exception {
		List<String> expected = new java.util.ArrayList<>(List.of("default"));
		expected.addAll(sc.fiji.sd.scheduler.Schedulers.names());
		for (var command : GENERATING) {
			NameChooserWidget widget = dropDown(command, "scheduler");
			assertTrue(widget instanceof SamplerChooserWidget, command.getSimpleName());
			assertEquals(expected, widget.entries(), command.getSimpleName());
			assertEquals("default", widget.getValue(), "the model's own scheduler unless one is chosen");
		}
	}

	/** The control-type drop-down is the pre-processor registry's, in every command that takes a ControlNet. */
	@Test
	void theControlTypeDropDownOffersThePreprocessorRegistry() throws Exception {
		for (var command : GENERATING) {
			NameChooserWidget widget = dropDown(command, "control_type");
			assertTrue(widget instanceof ControlTypeChooserWidget, command.getSimpleName());
			assertEquals(sc.fiji.sd.control.ControlPreprocessors.names(), widget.entries(), command.getSimpleName());
			assertEquals("none", widget.getValue(), "the control image as it is unless a pre-processor is chosen");
		}
	}

	@Test
	void theDeviceDropDownOffersDefaultThenTheSettingsDevices() {
		for (var command : List.of(TextToImageCommand.class, ImageToImageCommand.class, InpaintCommand.class,
			OutpaintCommand.class)) {
			var device = commands.getCommand(command).getInput("device", String.class);
			assertEquals(List.of(sc.fiji.sd.imagej.Generators.DEVICE_CHOICES), device.getChoices(), command.getSimpleName());
			assertEquals("default", device.getDefaultValue(), "default: the device chosen in Settings");
			assertTrue(!commands.getCommand(command).getInput("model").isRequired(), "empty: the model in Settings");
		}
	}

	@Test
	void imageToImageReadsThePassedImageAndLeavesItAlone() throws Exception {
		ByteProcessor bp = new ByteProcessor(40, 24);
		bp.setColor(90);
		bp.fill();
		ImagePlus input = new ImagePlus("input", bp);
		byte[] before = ((byte[]) bp.getPixels()).clone();
		CommandModule m = run(ImageToImageCommand.class, "image", input, "prompt", "x", "seed", 4L, "strength", 0.5);
		ImagePlus result = (ImagePlus) m.getOutput("result");
		assertEquals(40, result.getWidth());
		assertEquals(24, result.getHeight());
		assertArrayEquals(before, (byte[]) input.getProcessor().getPixels());
	}

	@Test
	void inpaintWithoutASelectionCancelsWithTheReason() throws Exception {
		ImagePlus input = new ImagePlus("photo", new ByteProcessor(32, 32));
		CommandModule m = run(InpaintCommand.class, "image", input, "prompt", "x", "seed", 1L);
		assertTrue(m.isCanceled());
		assertTrue(m.getCancelReason().contains("selection"), m.getCancelReason());
		assertNull(m.getOutput("result"));
		input.setRoi(new Roi(4, 4, 8, 8));
		CommandModule ok = run(InpaintCommand.class, "image", input, "prompt", "x", "seed", 1L);
		assertNotNull(ok.getOutput("result"), ok.getCancelReason());
	}
}
