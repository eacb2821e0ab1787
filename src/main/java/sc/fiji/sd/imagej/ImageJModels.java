package sc.fiji.sd.imagej;

import sc.fiji.sd.model.ModelProvider;

/**
 * The model provider of plain ImageJ 1.x (its PlugIns and batch macro functions).
 * <p>
 * The one static model state of the front ends, on purpose: ImageJ 1.x has no application context whose lifetime
 * could own the provider (in Fiji the SciJava {@code StableDiffusionService} owns its own, and the command line a
 * provider per run), so it lives as long as the JVM; a Settings change releases its model.
 */
public final class ImageJModels {

	private static final ModelProvider PROVIDER = new ModelProvider();

	private ImageJModels() {}

	/** The provider every ImageJ 1.x plugin uses, so a second run does not reload. */
	public static ModelProvider provider() {
		return PROVIDER;
	}
}
