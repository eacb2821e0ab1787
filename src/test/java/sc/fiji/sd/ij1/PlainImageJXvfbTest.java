package sc.fiji.sd.ij1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import sc.fiji.sd.imagej.Parameters;
import sc.fiji.sd.imagej.Settings;

/**
 * The plugin in a plain ImageJ 1.x, as a user installs it, under a virtual X display: the menu commands come from
 * plugins.config, real GenericDialogs read the macro options, {@code -batch} runs a macro file and exits.
 * <p>
 * Skipped, with a message, where {@code xvfb-run} is missing ({@code .ci/run} installs it). Every run is wrapped in
 * {@code timeout}: an error dialog under Xvfb would otherwise wait forever for a click.
 */
class PlainImageJXvfbTest {

	private static PlainImageJInstall install;

	@BeforeAll
	static void installImageJ() throws IOException {
		assumeTrue(onPath("xvfb-run"), "xvfb-run not found: install Xvfb (apt-get install xvfb xauth) to run the "
			+ "plain ImageJ 1.x test");
		assumeTrue(onPath("timeout"), "timeout (coreutils) not found: the plain ImageJ 1.x test needs it to stop a hung "
			+ "ImageJ");
		install = PlainImageJInstall.create(Path.of("target/plain-imagej").toAbsolutePath());
	}

	static boolean onPath(String program) {
		for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
			if (Files.isExecutable(Path.of(dir, program))) return true;
		return false;
	}

	/**
	 * Runs {@code main} (a class of the tests, e.g. a recorder driven under Xvfb) in a new JVM with the test classpath
	 * under {@code xvfb-run}; returns everything it printed, after checking that it ended with exit code 0 within
	 * 5 minutes. Skips the calling test where xvfb-run or timeout is missing.
	 *
	 * @param jvmOptions e.g. {@code -Duser.home=…}
	 * @param env variables added to the child's environment
	 */
	static String runClassUnderXvfb(Class<?> main, List<String> jvmOptions, Map<String, String> env, String... args)
		throws IOException, InterruptedException
	{
		assumeTrue(onPath("xvfb-run") && onPath("timeout"),
			"xvfb-run or timeout not found: install Xvfb (apt-get install xvfb xauth) to run this test");
		List<String> command = new ArrayList<>(List.of("timeout", "300", "xvfb-run", "-a",
			Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx2g"));
		command.addAll(jvmOptions);
		command.addAll(List.of("-cp", System.getProperty("surefire.test.class.path",
			System.getProperty("java.class.path")), main.getName()));
		command.addAll(List.of(args));
		ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
		pb.environment().putAll(env);
		Process p = pb.start();
		String printed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertTrue(p.waitFor(330, TimeUnit.SECONDS) && p.exitValue() == 0, printed);
		return printed;
	}

	/** Runs a macro file with {@code ij.jar -batch} under Xvfb; returns everything it printed. */
	static String runBatch(String macro, int timeoutSeconds) throws IOException, InterruptedException {
		Path file = install.root.resolve("test.ijm");
		Files.writeString(file, macro);
		return runBatchFile(file, null, timeoutSeconds);
	}

	static String runBatchFile(Path file, String argument, int timeoutSeconds) throws IOException,
		InterruptedException {
		String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
		ProcessBuilder pb = new ProcessBuilder("timeout", Integer.toString(timeoutSeconds), "xvfb-run", "-a", java,
			"-Xmx2g", "-jar", install.ijJar.toString(), "-ijpath", install.root.toString(), "-batch", file.toAbsolutePath().toString(),
			argument == null ? "" : argument).redirectErrorStream(true).directory(install.root.toFile());
		Process p = pb.start();
		byte[] out = p.getInputStream().readAllBytes();
		assertTrue(p.waitFor(timeoutSeconds + 30, TimeUnit.SECONDS), "ImageJ did not end");
		String printed = new String(out, StandardCharsets.UTF_8);
		assertTrue(p.exitValue() != 124, "ImageJ hung (killed after " + timeoutSeconds + " s); it printed:\n" + printed);
		return printed;
	}

	@Test
	void theMenuCommandsAreInstalledFromPluginsConfig() throws Exception {
		List<String> labels = List.of("Text to Image...", "Image to Image...", "Inpaint...",
			"Outpaint...", "Save as PNG with Parameters...", "Stable Diffusion Settings...", "Download Model...");
		String printed = runBatch("List.setCommands;\nlabels = newArray(\"" + String.join("\", \"", labels) + "\");\n"
			+ "for (i = 0; i < labels.length; i++) print(\"command: \" + labels[i] + \" = \" + List.get(labels[i]));\n",
			120);
		for (String label : labels)
			assertTrue(printed.contains("command: " + label + " = sc.fiji.sd.ij1."), label + " missing in:\n" + printed);
	}

	@Test
	void textToImageRunsFromABatchMacroAndSavesItsResult() throws Exception {
		Path out = install.root.resolve("out");
		Files.createDirectories(out);
		Files.deleteIfExists(out.resolve("circle.png"));
		Files.deleteIfExists(out.resolve("circle-parameters.png"));
		String printed = runBatch("run(\"Stable Diffusion Settings...\", \"model=[" + SmallModel.folder()
			+ "] device=cpu threads=0\");\n" + """
			run("Text to Image...", "prompt=[a red circle] negative=[] steps=3 guidance=7 seed=42 width=64 height=64 scheduler=[Euler a] batch=1");
			print("title: " + getTitle());
			print("info: " + getMetadata("Info"));
			dir = getDirectory("imagej") + "out" + File.separator;
			run("Save as PNG with Parameters...", "path=[" + dir + "circle-parameters.png]");
			saveAs("PNG", dir + "circle.png");
			print("saved");
			""", 300);
		assertTrue(printed.contains("title: a red circle (seed 42)"), printed);
		assertTrue(printed.contains("info: AI-generated"), printed);
		assertTrue(printed.contains("saved"), printed);
		var png = javax.imageio.ImageIO.read(out.resolve("circle.png").toFile());
		assertEquals(64, png.getWidth());
		assertEquals(64, png.getHeight());
		String parameters = sc.fiji.sd.provenance.PngReader.readText(out.resolve("circle-parameters.png")).get("parameters");
		assertTrue(parameters != null && parameters.startsWith("a red circle\n") && parameters.contains("Seed: 42"),
			String.valueOf(parameters));
	}

	@Test
	void theShippedModelWorksWithoutAnySettings() throws Exception {
		assumeTrue(Files.exists(Path.of("models/tiny-sd-shapes/unet/model.onnx")),
			"the shipped model (models/tiny-sd-shapes) is not in this checkout yet");
		Path png = install.root.resolve("out").resolve("shipped.png");
		Files.createDirectories(png.getParent());
		Files.deleteIfExists(png);
		String printed = runBatch("run(\"Stable Diffusion Settings...\", \"model=[] device=cpu threads=0\");\n"
			+ "run(\"Text to Image...\", \"prompt=[a red circle on a blue background] steps=10 seed=1\");\n"
			+ "print(\"size: \" + getWidth() + \"x\" + getHeight());\n"
			+ "run(\"Save as PNG with Parameters...\", \"path=[" + png + "]\");\n", 300);
		assertTrue(printed.contains("Model:           tiny-sd-shapes"), printed);
		assertTrue(Files.exists(png), printed);
		String parameters = sc.fiji.sd.provenance.PngReader.readText(png).get("parameters");
		assertTrue(parameters.contains("Model: tiny-sd-shapes") && parameters.contains("Size: 64x64"), parameters);
	}

	@Test
	void theDocumentedBatchExampleRuns() throws Exception {
		Path out = install.root.resolve("batch-example");
		String printed = runBatchFile(Path.of("examples/stable-diffusion-batch.ijm"), "output=[" + out + "] steps=2 "
			+ "size=64 device=cpu model=[" + SmallModel.folder() + "]", 300);
		for (String name : List.of("prompt1-seed1.png", "prompt1-seed3.png", "prompt2-seed2.png")) {
			assertTrue(printed.contains("saved " + out.resolve(name)), printed);
			String parameters = sc.fiji.sd.provenance.PngReader.readText(out.resolve(name)).get("parameters");
			assertTrue(parameters.contains("Seed: " + name.charAt(name.length() - 5)), parameters);
		}
	}

	@Test
	void theRecordedLineCarriesTheDrawnSeedAndReplaysToTheSamePixels() throws Exception {
		String printed = runClassUnderXvfb(RecordingUnderXvfb.class, List.of(), Map.of(), SmallModel.folder().toString());
		java.util.regex.Matcher m = java.util.regex.Pattern.compile(
			"RECORDED run\\(\"Text to Image\\.\\.\\.\", \"prompt=\\[a red circle\\] negative=\\[\\] steps=3 "
				+ "guidance=7 seed=(\\d+) subseed=-1 variation=0 width=64 height=64 hires=1 hiressteps=0 "
				+ "hiresstrength=0.70 refiner=\\[\\] refiner_switch=0.80 scheduler=default batch=1 control=none "
				+ "control_type=none controlnet=\\[\\] control_scale=1 control_start=0 control_end=1 control_low=100 "
				+ "control_high=200 model=\\[\\] "
				+ "device=default\"\\);")
			.matcher(printed);
		assertTrue(m.find(), "recorded line with a drawn seed expected in:\n" + printed);
		assertTrue(printed.contains("TITLE a red circle (seed " + m.group(1) + ")"), printed);
		assertTrue(printed.contains("IDENTICAL true"), printed);
	}

	@Test
	void aBadInputEndsTheMacroWithAMessageInsteadOfHanging() throws Exception {
		String printed = runBatch("""
			newImage("photo", "RGB black", 64, 64, 1);
			run("Inpaint...", "prompt=[a red circle] seed=1");
			print("not reached");
			""", 120);
		assertTrue(printed.contains("Inpaint needs a selection on \"photo\""), printed);
		assertTrue(!printed.contains("not reached"), printed);
		assertEquals(true, Files.exists(install.pluginJar));
	}
}
