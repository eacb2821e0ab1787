package sc.fiji.sd.ij1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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
		install = PlainImageJInstall.create(Path.of("target/plain-imagej").toAbsolutePath());
	}

	static boolean onPath(String program) {
		for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
			if (Files.isExecutable(Path.of(dir, program))) return true;
		return false;
	}

	/** Runs a macro file with {@code ij.jar -batch} under Xvfb; returns everything it printed. */
	static String runBatch(String macro, int timeoutSeconds) throws IOException, InterruptedException {
		Path file = install.root.resolve("test.ijm");
		Files.writeString(file, macro);
		String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
		ProcessBuilder pb = new ProcessBuilder("timeout", Integer.toString(timeoutSeconds), "xvfb-run", "-a", java,
			"-Xmx2g", "-jar", install.ijJar.toString(), "-ijpath", install.root.toString(), "-batch", file.toString())
				.redirectErrorStream(true).directory(install.root.toFile());
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
			"Save as PNG with Parameters...", "Stable Diffusion Settings...");
		String printed = runBatch("List.setCommands;\nlabels = newArray(\"" + String.join("\", \"", labels) + "\");\n"
			+ "for (i = 0; i < labels.length; i++) print(\"command: \" + labels[i] + \" = \" + List.get(labels[i]));\n",
			120);
		for (String label : labels)
			assertTrue(printed.contains("command: " + label + " = sc.fiji.sd.ij1."), label + " missing in:\n" + printed);
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
