package sc.fiji.sd.bench;

import java.nio.file.Path;

/**
 * A random-weight fixture ({@code src/test/resources/fixtures/<name>}) as a complete model folder: a temporary copy
 * with the CLIP tokenizer from {@code models/tiny-sd-shapes/tokenizer} added (the fixtures carry none). Needs only
 * the tokenizer, not the trained embedded model.
 */
public final class BenchFixtures {

	private BenchFixtures() {}

	public static Path folder(String fixture) {
		return sc.fiji.sd.pipeline.TestModels.folder(fixture);
	}
}
