package sc.fiji.sd.ij1;

import java.nio.file.Path;

/**
 * A complete model folder for front-end end-to-end tests: the random-weight {@code int64-timestep} fixture
 * ({@code src/test/resources/fixtures}, size step 16) plus the CLIP tokenizer of the shipped model, copied once per
 * JVM into a temporary folder. Random weights make noise, not pictures, but every command runs for real.
 */
public final class SmallModel {

	private SmallModel() {}

	public static Path folder() {
		return folder("int64-timestep");
	}

	/** Another fixture (e.g. "inpaint9", a 9-channel inpainting UNet), made complete the same way. */
	public static Path folder(String fixture) {
		return sc.fiji.sd.pipeline.TestModels.folder(fixture).toAbsolutePath();
	}
}
