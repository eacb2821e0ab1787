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

	private static Path folder;

	private SmallModel() {}

	public static synchronized Path folder() {
		if (folder != null) return folder;
		try {
			Path target = Files.createTempDirectory("sd-frontend-model");
			copyTree(Path.of("src/test/resources/fixtures/int64-timestep"), target);
			copyTree(Path.of("models/tiny-sd-shapes/tokenizer"), target.resolve("tokenizer"));
			folder = target.toAbsolutePath();
			return folder;
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
