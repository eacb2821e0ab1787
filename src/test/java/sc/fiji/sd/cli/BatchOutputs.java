package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import javax.imageio.ImageIO;

/** What the batch tests share: a manifest of small rows, the CLI as a separate JVM, and comparing output folders. */
final class BatchOutputs {

	private BatchOutputs() {}

	/** {@code rows} text-to-image rows on the embedded model (64×64), fixed seeds, a comma and quotes in a prompt. */
	static Path manifest(Path dir, int rows, int steps) throws IOException {
		StringBuilder sb = new StringBuilder("prompt,seed,steps,count\n");
		String[] prompts = { "\"a red circle, on a blue background\"", "a green square", "\"a \"\"yellow\"\" triangle\"" };
		for (int r = 0; r < rows; r++) sb.append(prompts[r % 3]).append(',').append(100 + r).append(',').append(steps)
			.append(',').append(r % 4 == 1 ? 2 : 1).append('\n');
		Path m = dir.resolve("manifest.csv");
		Files.writeString(m, sb.toString());
		return m;
	}

	/** The command line that runs the CLI in a new JVM with the test class path. */
	static List<String> javaCommand(String... args) {
		String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
		String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
		List<String> cmd = new ArrayList<>(List.of(java, "-Xmx1g", "-cp", cp, Main.class.getName()));
		cmd.addAll(List.of(args));
		return cmd;
	}

	/** The PNG outputs of a folder, by name. */
	static List<String> pngs(Path dir) throws IOException {
		try (Stream<Path> s = Files.list(dir)) {
			return s.map(p -> p.getFileName().toString()).filter(n -> n.matches("row\\d+-img\\d+\\.png")).sorted().toList();
		}
	}

	/** Both folders hold the same PNG names, and each pair has the same pixels. */
	static void assertSamePixels(Path expected, Path actual) throws IOException {
		List<String> names = pngs(expected);
		assertEquals(names, pngs(actual));
		for (String n : names) {
			BufferedImage a = ImageIO.read(expected.resolve(n).toFile()), b = ImageIO.read(actual.resolve(n).toFile());
			assertEquals(a.getWidth(), b.getWidth(), n);
			assertEquals(a.getHeight(), b.getHeight(), n);
			assertArrayEquals(a.getRGB(0, 0, a.getWidth(), a.getHeight(), null, 0, a.getWidth()),
				b.getRGB(0, 0, b.getWidth(), b.getHeight(), null, 0, b.getWidth()), n + " differs");
		}
	}
}
