package sc.fiji.sd.ij1;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Lays out a plain ImageJ 1.x installation the way a user does: {@code ij.jar}, and the ImageJ zip that the build
 * makes ({@code target/Stable_Diffusion-<version>-imagej.zip}: the plugin jar in {@code plugins/}, its libraries in
 * {@code plugins/jars/}) unpacked over it.
 * <p>
 * The build makes the zip at process-test-classes, before the tests, so {@code mvn test} tests exactly what users
 * unpack. {@code ij.jar} comes from the test's class path.
 */
final class PlainImageJInstall {

	/** Test-only libraries that a user's ImageJ does not have. */
	static final List<String> TEST_ONLY = List.of("junit", "opentest4j", "apiguardian", "ij1-patcher",
		"javassist", "surefire", "hamcrest", "classgraph");

	final Path root, ijJar, pluginJar;

	private PlainImageJInstall(Path root, Path ijJar, Path pluginJar) {
		this.root = root;
		this.ijJar = ijJar;
		this.pluginJar = pluginJar;
	}

	static PlainImageJInstall create(Path root) throws IOException {
		Files.createDirectories(root);
		Path ij = root.resolve("ij.jar");
		Path ijOnClassPath = runtimeJars().stream().filter(p -> p.getFileName().toString().matches("ij-1\\..*\\.jar"))
			.findFirst().orElseThrow(() -> new IllegalStateException("ij-1.x.jar is not on the test class path"));
		Files.copy(ijOnClassPath, ij, StandardCopyOption.REPLACE_EXISTING);
		deleteTree(root.resolve("plugins")); // a fresh install: nothing left from an earlier build
		unzip(packageZip("imagej"), root);
		try (Stream<Path> plugins = Files.list(root.resolve("plugins"))) {
			Path plugin = plugins.filter(p -> p.getFileName().toString().matches("Stable_Diffusion-.*\\.jar")).findFirst()
				.orElseThrow(() -> new IllegalStateException("the ImageJ zip has no plugins/Stable_Diffusion-*.jar"));
			return new PlainImageJInstall(root, ij, plugin);
		}
	}

	/** {@code target/Stable_Diffusion-<version>-<kind>.zip}, which Maven builds before the tests. */
	static Path packageZip(String kind) throws IOException {
		try (Stream<Path> target = Files.list(Path.of("target"))) {
			return target.filter(p -> p.getFileName().toString().matches("Stable_Diffusion-.*-" + kind + "\\.zip"))
				.findFirst().orElseThrow(() -> new IllegalStateException("target/Stable_Diffusion-<version>-" + kind
					+ ".zip is missing: Maven builds it at process-test-classes; run the tests with mvn test"));
		}
	}

	/** The libraries on the test class path that the plugin needs at run time (test-only ones left out). */
	static List<Path> runtimeJars() {
		String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
		List<Path> paths = new ArrayList<>();
		for (String s : cp.split(File.pathSeparator)) {
			if (s.isBlank() || !Files.isRegularFile(Path.of(s))) continue;
			String name = Path.of(s).getFileName().toString();
			if (name.endsWith(".jar") && TEST_ONLY.stream().noneMatch(name::contains)) paths.add(Path.of(s));
		}
		return paths;
	}

	private static void deleteTree(Path folder) throws IOException {
		if (!Files.exists(folder)) return;
		try (Stream<Path> walk = Files.walk(folder)) {
			for (Path p : (Iterable<Path>) walk.sorted(java.util.Comparator.reverseOrder())::iterator) Files.delete(p);
		}
	}

	static void unzip(Path zip, Path into) throws IOException {
		try (InputStream in = Files.newInputStream(zip); ZipInputStream z = new ZipInputStream(in)) {
			for (ZipEntry e; (e = z.getNextEntry()) != null;) {
				Path target = into.resolve(e.getName()).normalize();
				if (!target.startsWith(into)) throw new IOException("zip entry outside the folder: " + e.getName());
				if (e.isDirectory()) Files.createDirectories(target);
				else {
					Files.createDirectories(target.getParent());
					Files.copy(z, target, StandardCopyOption.REPLACE_EXISTING);
				}
			}
		}
	}
}
