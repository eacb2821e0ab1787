package sc.fiji.sd.ij1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scijava.Context;
import org.scijava.command.Command;
import org.scijava.command.CommandInfo;
import org.scijava.command.CommandService;
import org.scijava.module.Module;
import org.scijava.module.ModuleItem;
import org.scijava.module.ModuleService;
import org.scijava.prefs.PrefService;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.batch.BatchManifest;
import sc.fiji.sd.batch.BatchRow;
import sc.fiji.sd.cli.Main;
import sc.fiji.sd.fiji.ImageToImageCommand;
import sc.fiji.sd.fiji.InpaintCommand;
import sc.fiji.sd.fiji.OutpaintCommand;
import sc.fiji.sd.fiji.StableDiffusionService;
import sc.fiji.sd.fiji.TextToImageCommand;
import sc.fiji.sd.imagej.Settings;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;
import sc.fiji.sd.pipeline.GenerationSetting;
import sc.fiji.sd.pipeline.GenerationSettings;
import sc.fiji.sd.pipeline.ParametersReplay;
import sc.fiji.sd.provenance.PngReader;

/**
 * The contract of {@link GenerationSettings}: every entry, with nothing else written for it, is a command-line option,
 * an ImageJ 1.x macro key, a Fiji input (scijava-common alone) and a batch-manifest column, and its value goes from each
 * front end through the request into the parameters text and back ({@link ParametersReplay}). The entries' own
 * {@link GenerationSetting#example} values drive it, so a new entry is checked here without editing this test.
 */
class GenerationSettingsContractTest {

	private static final List<Class<? extends Command>> FIJI_COMMANDS = List.of(TextToImageCommand.class,
		ImageToImageCommand.class, InpaintCommand.class, OutpaintCommand.class);

	@TempDir
	Path dir;

	private static Context context;

	@BeforeAll
	static void start() {
		context = new Context();
		context.service(StableDiffusionService.class).apply(new Settings(SmallModel.folder().toString(), "cpu", 0));
	}

	@AfterAll
	static void stop() {
		FIJI_COMMANDS.forEach(c -> context.service(PrefService.class).clear(c));
		context.dispose();
	}

	/** "Name: value" as the parameters text writes the example. */
	private static String written(GenerationSetting<?> s) {
		return entry(s);
	}

	private static <T> String entry(GenerationSetting<T> s) {
		String text = s.parametersEntry(s.value(s.example()));
		assertTrue(text.startsWith(s.provenance() + ": ") && text.contains(s.example()), text);
		return text;
	}

	@Test
	void theTableIsNotEmptyAndEveryEntryHasAnExampleOtherThanItsDefault() {
		assertTrue(!GenerationSettings.ALL.isEmpty());
		for (GenerationSetting<?> s : GenerationSettings.ALL) {
			assertTrue(s.key().matches("[a-z][a-z_]*[a-z]"), s + ": one lower-case word, as ImageJ's recorder writes keys");
			assertTrue(s.option().matches("--[a-z][a-z-]*"), s.option());
			assertTrue(!exampleIsDefault(s), s + "'s example is its default: nothing would be checked");
			assertNotNull(s.provenance(), s + " names itself in the parameters text");
			assertTrue(BatchManifest.COLUMNS.containsKey(s.key()), s + " is a manifest column");
		}
	}

	private static <T> boolean exampleIsDefault(GenerationSetting<T> s) {
		return s.isDefault(s.value(s.example()));
	}

	/**
	 * ImageJ's {@code Macro.getValue} finds {@code key=} after any character that is not a letter, so a key that ends
	 * another key after an underscore reads that key's value (as {@code control} does {@code show_control}'s, which
	 * predates the table). No table key may be such a pair with any key of the Fiji commands (the macro keys).
	 */
	@Test
	void noMacroKeyOfTheTableReadsAnotherKeysValue() throws Exception {
		Set<String> keys = new LinkedHashSet<>();
		for (var c : FIJI_COMMANDS)
			for (ModuleItem<?> input : context.service(CommandService.class).getCommand(c).inputs()) keys.add(input.getName());
		for (GenerationSetting<?> s : GenerationSettings.ALL) {
			assertTrue(keys.contains(s.key()), s + " is an input of the Fiji commands");
			for (String other : keys) {
				if (other.equals(s.key())) continue;
				for (String[] pair : List.of(new String[] { s.key(), other }, new String[] { other, s.key() })) {
					String shorter = pair[0], longer = pair[1];
					boolean shadows = longer.endsWith(shorter)
						&& !Character.isLetter(longer.charAt(longer.length() - shorter.length() - 1));
					assertTrue(!shadows, "macro key " + shorter + "= would also read " + longer + "=");
				}
			}
		}
	}

	@Test
	void everyEntryRoundTripsThroughTheRequestAndItsParametersText() {
		for (GenerationSetting<?> s : GenerationSettings.ALL) roundTrip(s);
	}

	private static <T> void roundTrip(GenerationSetting<T> s) {
		T v = s.value(s.example());
		GenerationRequest r = GenerationRequest.builder().setting(s, v).build();
		assertEquals(v, r.setting(s), s.key());
		assertEquals(v, r.toBuilder().build().setting(s), s + " survives toBuilder");
		assertEquals(s.defaultValue(), GenerationRequest.builder().build().setting(s), s + ": the default when unset");
		r.validate();
		String text = "x\nSteps: 2, Seed: 1, Size: 64x64, " + written(s);
		assertEquals(v, ParametersReplay.builder(text).build().setting(s), s + " is read back from the parameters text");
		if (s.isNumber()) {
			assertThrows(StableDiffusionException.class, () -> s.value(s.max() + 1), s + " above its range");
			assertThrows(StableDiffusionException.class, () -> s.value("abc"), s + " not a number");
		}
	}

	@Test
	void everyEntryIsAnOptionOfTheCommandLineCommandsOfItsModes() throws Exception {
		Map<Mode, String> commands = Map.of(Mode.TEXT_TO_IMAGE, "txt2img", Mode.IMAGE_TO_IMAGE, "img2img", Mode.INPAINT,
			"inpaint");
		for (var c : commands.entrySet()) {
			String help = printed(() -> Main.run("help", c.getValue()));
			for (GenerationSetting<?> s : GenerationSettings.ALL)
				assertEquals(s.appliesTo(c.getKey()), help.contains(s.option() + "=" + s.paramLabel()), c.getValue()
					+ " " + s.option() + ":\n" + help);
		}
	}

	@Test
	void everyEntryGoesFromTheCommandLineIntoTheImagesParameters() throws Exception {
		for (GenerationSetting<?> s : GenerationSettings.ALL) {
			Path out = dir.resolve(s.key() + ".png");
			List<String> args = new ArrayList<>(List.of(command(s), "--model", SmallModel.folder().toString(), "--prompt",
				"x", "--steps", "1", "--seed", "3", "--output", out.toString(), s.option(), s.example()));
			if (!s.appliesTo(Mode.TEXT_TO_IMAGE)) args.addAll(List.of("--image", image().toString()));
			assertEquals(0, Main.run(args.toArray(new String[0])), s.option());
			String parameters = PngReader.readText(out).get("parameters");
			assertTrue(parameters.contains(written(s)), parameters);
			assertEquals(2, Main.run(command(s), "--prompt", "x", s.option(), "not a value"), s.option()
				+ ": a bad value is a usage error");
		}
	}

	private static String command(GenerationSetting<?> s) {
		if (s.appliesTo(Mode.TEXT_TO_IMAGE)) return "txt2img";
		if (s.appliesTo(Mode.IMAGE_TO_IMAGE)) return "img2img";
		throw new AssertionError(s + ": extend this test to the mode it applies to");
	}

	private Path image() throws Exception {
		Path p = dir.resolve("in.png");
		if (!Files.exists(p)) {
			var img = net.imglib2.img.array.ArrayImgs.floats(64, 64, 3);
			sc.fiji.sd.provenance.PngWriter.write(p, img, Map.of());
		}
		return p;
	}

	@Test
	void everyEntryIsAMacroKeyOfTheImageJ1Dialogs() {
		HeadlessImageJ ij = HeadlessImageJ.shared();
		for (GenerationSetting<?> s : GenerationSettings.ALL) {
			String property = "sd.test.setting." + s.key();
			String printed = ij.runMacro((s.appliesTo(Mode.TEXT_TO_IMAGE) ? "" : "newImage(\"in\", \"RGB black\", 64, 64, 1);\n")
				+ "run(\"" + (s.appliesTo(Mode.TEXT_TO_IMAGE) ? "Text to Image" : "Image to Image") + "...\", \"prompt=x "
				+ "steps=1 seed=3 width=64 height=64 model=[" + SmallModel.folder() + "] device=cpu " + s.key() + "=["
				+ s.example() + "]\");\n"
				+ "call(\"java.lang.System.setProperty\", \"" + property + "\", getMetadata(\"Info\"));\n"
				+ "close(\"*\");\n");
			assertTrue(!printed.contains("Macro Error"), printed);
			String info = System.getProperty(property);
			assertTrue(info != null && info.contains(written(s)), s + ": " + info);
			String bad = ij.runMacro("run(\"Text to Image...\", \"prompt=x steps=1 " + s.key() + "=[not a value]\");\n");
			assertTrue(bad.contains(s.key() + "=not a value"), s + ": the message names the key:\n" + bad);
		}
	}

	@Test
	void everyEntryIsAFijiInputOfTheCommandsWithItsDefaultAndGoesIntoTheResultsInfo() throws Exception {
		CommandService commands = context.service(CommandService.class);
		for (var c : FIJI_COMMANDS) {
			CommandInfo info = commands.getCommand(c);
			Module module = context.service(ModuleService.class).createModule(info);
			for (GenerationSetting<?> s : GenerationSettings.ALL) {
				ModuleItem<?> input = info.getInput(s.key());
				assertNotNull(input, c.getSimpleName() + " has no input " + s.key() + " (declare it in fiji.GenerationCommand)");
				Class<?> type = s.type() == Integer.class ? int.class : s.type() == Double.class ? double.class : String.class;
				assertEquals(type, input.getType(), c.getSimpleName() + "." + s.key());
				assertEquals(s.value(s.defaultText()), s.value(module.getInput(s.key())), c.getSimpleName() + "." + s.key()
					+ ": the table's default");
				if (s.isNumber()) {
					assertEquals(s.min(), ((Number) input.getMinimumValue()).doubleValue(), s.key() + " min");
					assertEquals(s.max(), ((Number) input.getMaximumValue()).doubleValue(), s.key() + " max");
				}
			}
		}
		for (GenerationSetting<?> s : GenerationSettings.ALL) {
			Map<String, Object> inputs = new HashMap<>(Map.of("prompt", "x", "steps", 1, "seed", 3L, "width", 64,
				"height", 64));
			inputs.put(s.key(), s.isNumber() ? (Object) Double.valueOf(s.example()) : s.example());
			if (s.type() == Integer.class) inputs.put(s.key(), Integer.valueOf(s.example()));
			if (!s.appliesTo(Mode.TEXT_TO_IMAGE)) fail(s + ": extend this test to the mode it applies to");
			var m = commands.run(TextToImageCommand.class, true, inputs).get();
			Object result = m.getOutput("result"); // an ImagePlus; not named here: HeadlessImageJ's patched ImageJ is
			assertNotNull(result, s.key() + ": " + m.getCancelReason()); // loaded in this JVM too
			String info = (String) result.getClass().getMethod("getProperty", String.class).invoke(result, "Info");
			assertTrue(info.contains(written(s)), s + ": " + info);
		}
	}

	@Test
	void everyEntryIsABatchManifestColumn() throws Exception {
		for (GenerationSetting<?> s : GenerationSettings.ALL) {
			Path csv = dir.resolve(s.key() + ".csv");
			Files.writeString(csv, "prompt," + s.key() + "\nx,\"" + s.example() + "\"\ny,\n");
			List<BatchRow> rows = BatchManifest.read(csv);
			assertEquals(s.value(s.example()), rows.get(0).settings().get(s), s.key());
			assertTrue(rows.get(0).spec().contains("\"" + s.key() + "\""), rows.get(0).spec());
			assertTrue(!rows.get(1).spec().contains(s.key()), "an empty field: the default, and the spec of before");
			Files.writeString(csv, "prompt," + s.key() + "\nx,not a value\n");
			var e = assertThrows(BatchManifest.BadManifestException.class, () -> BatchManifest.read(csv));
			assertTrue(e.getMessage().contains("column " + s.key()), e.getMessage());
		}
	}

	/** What {@code run} printed on stdout (picocli's help goes there). */
	private static String printed(java.util.concurrent.Callable<?> run) throws Exception {
		PrintStream out = System.out;
		ByteArrayOutputStream bytes = new ByteArrayOutputStream();
		System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
		try {
			run.call();
		}
		finally {
			System.setOut(out);
		}
		return bytes.toString(StandardCharsets.UTF_8);
	}
}
