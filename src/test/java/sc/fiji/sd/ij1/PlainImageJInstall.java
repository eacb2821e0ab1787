package sc.fiji.sd.ij1;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * Lays out a plain ImageJ 1.x installation the way a user would: {@code ij.jar}, our plugin jar in {@code plugins/}
 * (its name contains "_", or ImageJ ignores it) and the dependencies in {@code plugins/jars/}.
 * <p>
 * {@code mvn test} does not build the plugin jar, so it is packed here from {@code target/classes} (which holds the
 * same files the real jar does, plugins.config included). The jars come from the test's class path.
 */
final class PlainImageJInstall {

	/** Test-only libraries that a user's ImageJ does not have. */
	private static final List<String> TEST_ONLY = List.of("junit", "opentest4j", "apiguardian", "ij1-patcher",
		"javassist", "surefire", "hamcrest");

	final Path root, ijJar, pluginJar;

	private PlainImageJInstall(Path root, Path ijJar, Path pluginJar) {
		this.root = root;
		this.ijJar = ijJar;
		this.pluginJar = pluginJar;
	}

	static PlainImageJInstall create(Path root) throws IOException {
		Path plugins = root.resolve("plugins"), jars = plugins.resolve("jars");
		Files.createDirectories(jars);
		Path ij = null;
		for (Path entry : classPath()) {
			String name = entry.getFileName().toString();
			if (!name.endsWith(".jar") || TEST_ONLY.stream().anyMatch(name::contains)) continue;
			if (name.matches("ij-1\\..*\\.jar")) {
				ij = root.resolve("ij.jar");
				Files.copy(entry, ij, StandardCopyOption.REPLACE_EXISTING);
			}
			else Files.copy(entry, jars.resolve(name), StandardCopyOption.REPLACE_EXISTING);
		}
		if (ij == null) throw new IllegalStateException("ij-1.x.jar is not on the test class path");
		Path plugin = plugins.resolve("Stable_Diffusion-test.jar");
		jar(Path.of("target/classes"), plugin);
		return new PlainImageJInstall(root, ij, plugin);
	}

	/** The test class path: surefire passes it in a property (the JVM's own may be a single manifest jar). */
	private static List<Path> classPath() {
		String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
		List<Path> paths = new ArrayList<>();
		for (String s : cp.split(File.pathSeparator))
			if (!s.isBlank() && Files.isRegularFile(Path.of(s))) paths.add(Path.of(s));
		return paths;
	}

	private static void jar(Path classes, Path jar) throws IOException {
		try (OutputStream out = Files.newOutputStream(jar); JarOutputStream zip = new JarOutputStream(out);
			Stream<Path> files = Files.walk(classes)) {
			for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
				zip.putNextEntry(new JarEntry(classes.relativize(file).toString().replace(File.separatorChar, '/')));
				Files.copy(file, zip);
				zip.closeEntry();
			}
		}
	}
}
