package sc.fiji.sd.ij1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.zip.ZipFile;

import org.junit.jupiter.api.Test;

import com.google.gson.JsonObject;
import com.google.gson.JsonStreamParser;

/**
 * The packages' contract: each SciJava menu command has exactly one plugins.config entry with the same menu and
 * label (and the reverse), the Fiji jar carries only the SciJava commands (no plugins.config, so Fiji's module index
 * holds no legacy duplicate), the ImageJ jar carries plugins.config, and each zip holds the libraries it should.
 */
class PackagesTest {

	/** Menu path + label of every SciJava command, from the annotation index the build wrote. */
	static List<String> sciJavaMenuLeaves(Reader index) {
		List<String> leaves = new ArrayList<>();
		JsonStreamParser parser = new JsonStreamParser(index);
		while (parser.hasNext()) {
			JsonObject plugin = parser.next().getAsJsonObject();
			JsonObject values = plugin.getAsJsonObject("values");
			if (plugin.get("class").getAsString().startsWith("sc.fiji.sd.") && values.has("menuPath")
				&& "org.scijava.command.Command".equals(values.get("type").getAsString()))
				leaves.add(values.get("menuPath").getAsString());
		}
		Collections.sort(leaves);
		return leaves;
	}

	/** Menu path + label of every plugins.config entry (separators and comments left out). */
	static List<String> pluginsConfigLeaves(List<String> lines) {
		List<String> leaves = new ArrayList<>();
		for (String line : lines) {
			String l = line.trim();
			if (l.isEmpty() || l.startsWith("#")) continue;
			int q1 = l.indexOf('"'), q2 = l.indexOf('"', q1 + 1);
			String label = l.substring(q1 + 1, q2);
			if (label.equals("-")) continue;
			leaves.add(l.substring(0, l.indexOf(',')).trim() + ">" + label);
		}
		Collections.sort(leaves);
		return leaves;
	}

	@Test
	void eachSciJavaMenuCommandMatchesExactlyOnePluginsConfigLabel() throws IOException {
		List<String> sciJava;
		try (Reader index = Files.newBufferedReader(Path.of("target/classes/META-INF/json/org.scijava.plugin.Plugin"))) {
			sciJava = sciJavaMenuLeaves(index);
		}
		List<String> config = pluginsConfigLeaves(Files.readAllLines(Path.of("plugins.config")));
		assertEquals(new TreeSet<>(sciJava).size(), sciJava.size(), "a SciJava menu path twice: " + sciJava);
		assertEquals(new TreeSet<>(config).size(), config.size(), "a plugins.config label twice: " + config);
		assertEquals(sciJava, config, "SciJava commands (Fiji) and plugins.config (ImageJ 1.x) name the same menu items");
	}

	@Test
	void theFijiJarHasOnlyTheSciJavaCommandsAndTheImageJJarHasPluginsConfig() throws IOException {
		Path fijiZip = PlainImageJInstall.packageZip("fiji");
		String version = fijiZip.getFileName().toString().replaceAll("Stable_Diffusion-(.*)-fiji\\.zip", "$1");
		try (JarFile main = new JarFile(Path.of("target", "Stable_Diffusion-" + version + ".jar").toFile());
			JarFile imagej = new JarFile(Path.of("target", "Stable_Diffusion-" + version + "-imagej.jar").toFile()))
		{
			assertEquals(null, main.getEntry("plugins.config"), "the Fiji jar must not register legacy duplicates");
			assertNotNull(main.getEntry("META-INF/json/org.scijava.plugin.Plugin"));
			assertNotNull(imagej.getEntry("plugins.config"));
			assertEquals(main.getManifest().getMainAttributes().getValue("Main-Class"), "sc.fiji.sd.cli.Main");
		}
	}

	/**
	 * Both jars carry the embedded model and, once {@code models/tiny-sd-shapes-controlnet} exists, its ControlNet,
	 * file for file (EmbeddedModel unpacks both from the jar; a ControlNet left out would leave the default missing).
	 */
	@Test
	void bothJarsCarryTheEmbeddedModelAndItsControlNet() throws IOException {
		Path fijiZip = PlainImageJInstall.packageZip("fiji");
		String version = fijiZip.getFileName().toString().replaceAll("Stable_Diffusion-(.*)-fiji\\.zip", "$1");
		List<String> shipped = new ArrayList<>();
		for (String name : List.of(sc.fiji.sd.model.EmbeddedModel.NAME, sc.fiji.sd.model.EmbeddedModel.CONTROLNET_NAME)) {
			Path folder = Path.of("models", name);
			if (!Files.isDirectory(folder)) continue; // the ControlNet, until it is trained
			try (var files = Files.walk(folder)) {
				files.filter(Files::isRegularFile).forEach(f -> shipped.add(Path.of("models").relativize(f).toString()
					.replace('\\', '/')));
			}
		}
		assertTrue(shipped.stream().anyMatch(f -> f.endsWith("unet/model.onnx")), shipped.toString());
		for (String jar : List.of("Stable_Diffusion-" + version + ".jar", "Stable_Diffusion-" + version + "-imagej.jar"))
			try (JarFile j = new JarFile(Path.of("target", jar).toFile())) {
				for (String file : shipped)
					assertNotNull(j.getEntry("models/" + file), jar + " lacks models/" + file);
			}
	}

	@Test
	void theZipsHoldTheRightLibraries() throws IOException {
		Set<String> runtime = new TreeSet<>();
		PlainImageJInstall.runtimeJars().forEach(p -> runtime.add(p.getFileName().toString()));
		Path fijiZip = PlainImageJInstall.packageZip("fiji"), imagejZip = PlainImageJInstall.packageZip("imagej");
		String version = fijiZip.getFileName().toString().replaceAll("Stable_Diffusion-(.*)-fiji\\.zip", "$1");
		String plugin = "Stable_Diffusion-" + version + ".jar";

		Set<String> imagej = entries(imagejZip);
		Set<String> expected = new TreeSet<>(Set.of("plugins/" + plugin));
		runtime.stream().filter(n -> !n.matches("ij-1\\..*\\.jar")).forEach(n -> expected.add("plugins/jars/" + n));
		assertEquals(expected, imagej, "ImageJ 1.x: every runtime library except ij");

		Set<String> fiji = entries(fijiZip);
		assertTrue(fiji.contains("plugins/" + plugin), fiji.toString());
		assertTrue(fiji.stream().allMatch(e -> e.equals("plugins/" + plugin) || e.startsWith("jars/")), fiji.toString());
		assertTrue(fiji.stream().anyMatch(e -> e.matches("jars/onnxruntime-.*\\.jar")), "Fiji has no ONNX Runtime");
		// Fiji ships what pom-scijava manages: the Fiji zip carries exactly the runtime libraries it does not manage.
		Path pom = Path.of(System.getProperty("maven.repo.local", System.getProperty("user.home") + "/.m2/repository"),
			"org/scijava/pom-scijava/45.0.0/pom-scijava-45.0.0.pom");
		assumeTrue(Files.isRegularFile(pom), "pom-scijava 45.0.0 is not in the local Maven repository: " + pom);
		String managed = Files.readString(pom, StandardCharsets.UTF_8);
		Set<String> unmanaged = new TreeSet<>();
		for (String jar : runtime) {
			String artifactId = jar.replaceAll("-\\d.*\\.jar$", "");
			if (!managed.contains("<artifactId>" + artifactId + "</artifactId>")) unmanaged.add("jars/" + jar);
		}
		Set<String> fijiJars = new TreeSet<>(fiji);
		fijiJars.remove("plugins/" + plugin);
		assertEquals(unmanaged, fijiJars, "the Fiji zip's jars/ = runtime libraries pom-scijava does not manage");
		assertFalse(unmanaged.isEmpty());
	}

	private static Set<String> entries(Path zip) throws IOException {
		Set<String> names = new TreeSet<>();
		try (ZipFile z = new ZipFile(zip.toFile())) {
			z.stream().filter(e -> !e.isDirectory()).forEach(e -> names.add(e.getName()));
		}
		return names;
	}
}
