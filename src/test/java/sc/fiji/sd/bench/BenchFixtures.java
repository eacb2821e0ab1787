package sc.fiji.sd.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A random-weight fixture ({@code src/test/resources/fixtures/<name>}) as a complete model folder: a temporary copy
 * with the CLIP tokenizer from {@code models/tiny-sd-shapes/tokenizer} added (the fixtures carry none). Needs only
 * the tokenizer, not the trained embedded model.
 */
public final class BenchFixtures {

	private static final Map<String, Path> COPIES = new HashMap<>();

	private BenchFixtures() {}

	public static synchronized Path folder(String fixture) {
		return COPIES.computeIfAbsent(fixture, name -> {
			try {
				Path parent = Files.createTempDirectory("sd-bench");
				parent.toFile().deleteOnExit();
				Path target = parent.resolve(name);
				copyTree(Path.of("src/test/resources/fixtures", name), target);
				copyTree(Path.of("models/tiny-sd-shapes/tokenizer"), target.resolve("tokenizer"));
				return target;
			}
			catch (IOException e) {
				throw new UncheckedIOException(e);
			}
		});
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
		to.toFile().deleteOnExit();
	}
}
