package sc.fiji.sd.ij1;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/**
 * A complete model folder for front-end end-to-end tests: the random-weight {@code int64-timestep} fixture
 * ({@code src/test/resources/fixtures}, size step 16) plus the CLIP tokenizer of the shipped model, copied once per
 * JVM into a temporary folder. Random weights make noise, not pictures, but every command runs for real.
 */
public final class SmallModel {

	private static final java.util.Map<String, Path> FOLDERS = new java.util.HashMap<>();

	private SmallModel() {}

	public static Path folder() {
		return folder("int64-timestep");
	}

	/** Another fixture (e.g. "inpaint9", a 9-channel inpainting UNet), made complete the same way. */
	public static synchronized Path folder(String fixture) {
		if (FOLDERS.containsKey(fixture)) return FOLDERS.get(fixture);
		try {
			Path target = Files.createTempDirectory("sd-frontend-" + fixture);
			copyTree(Path.of("src/test/resources/fixtures", fixture), target);
			copyTree(Path.of("models/tiny-sd-shapes/tokenizer"), target.resolve("tokenizer"));
			FOLDERS.put(fixture, target.toAbsolutePath());
			return target.toAbsolutePath();
		}
		catch (IOException e) {
			throw new UncheckedIOException(e);
		}
	}

	private static void copyTree(Path from, Path to) throws IOException {
		try (Stream<Path> files = Files.walk(from)) {
			for (Path p : (Iterable<Path>) files::iterator) {
				Path t = to.resolve(from.relativize(p).toString());
				if (Files.isDirectory(p)) Files.createDirectories(t);
				else Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
				t.toFile().deleteOnExit();
			}
		}
	}
}
