package sc.fiji.sd.pipeline;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.scheduler.Schedulers;

/**
 * The checks of a request that need no model: every front end runs them before loading one (the command line turns a
 * failure into exit code 2), and {@link Plan} runs them again with the model's own rules (size step, components).
 */
final class RequestChecks {

	/** The latent is 1/8 of the image: every model's size step is a multiple of 8. */
	static final int LATENT_FACTOR = 8;

	private RequestChecks() {}

	/** All checks; {@code sizeStep} is the model's, or {@link #LATENT_FACTOR} before a model is known. */
	static void check(GenerationRequest r, int sizeStep) {
		if (r.steps() < 1 || r.steps() > 1000) {
			throw new StableDiffusionException("Steps must be between 1 and 1000, not " + r.steps() + ".");
		}
		if (r.batchSize() < 1 || r.batchCount() < 1) {
			throw new StableDiffusionException("Batch size and batch count must be at least 1 (got " + r.batchSize()
				+ " and " + r.batchCount() + ").");
		}
		if (!(r.guidance() >= 0) || r.guidance() > 100) {
			throw new StableDiffusionException("Guidance (CFG scale) must be between 0 and 100, not " + r.guidance() + ".");
		}
		if (!(r.strength() >= 0 && r.strength() <= 1)) {
			throw new StableDiffusionException("Strength must be between 0 and 1, not " + r.strength()
				+ " (0 keeps the input image, 1 ignores it).");
		}
		if (r.maskFeather() < 0 || r.maskFeather() > 64) {
			throw new StableDiffusionException("The mask feather must be between 0 and 64 pixels, not " + r.maskFeather() + ".");
		}
		if (r.seed() < GenerationRequest.RANDOM_SEED) {
			throw new StableDiffusionException("Seed " + r.seed() + " is not possible: use 0 or more, or -1 for a random one.");
		}
		if (!(r.refinerSwitch() >= 0 && r.refinerSwitch() < 1)) {
			throw new StableDiffusionException("The refiner switch must be more than 0 and less than 1 (the fraction of "
				+ "the steps the model runs before the refiner takes over, e.g. 0.8), not " + r.refinerSwitch() + ".");
		}
		GenerationSettings.check(r);
		VariationSeeds.check(r);
		checkTiles(r.tileSize(), r.tileOverlap());
		for (int i = 0; i < r.controls().size(); i++) r.controls().get(i).check(i);
		checkSize("Width", r.width(), sizeStep);
		checkSize("Height", r.height(), sizeStep);
		String scheduler = r.scheduler();
		if (scheduler != null && !scheduler.isBlank() && !Schedulers.isKnown(scheduler)) {
			throw new StableDiffusionException("Unknown sampler \"" + shorten(scheduler) + "\"; valid names are: "
				+ String.join(", ", Schedulers.names()) + " (or leave it empty for the model's own).");
		}
	}

	/** 0 (the model's or the image's size) or a positive multiple of {@code step} up to {@link Plan#MAX_SIZE}. */
	private static void checkSize(String what, int size, int step) {
		if (size == 0) return;
		if (size < 0) {
			throw new StableDiffusionException(what + " " + size + " is not possible: give a positive size, or 0 (or "
				+ "nothing) for the model's own size or the input image's.");
		}
		Plan.checkSize(what, size, step);
	}

	/** Tiled diffusion: tiles of 0 (off) or a multiple of 8 pixels, overlapping by a multiple of 8 less than a tile. */
	private static void checkTiles(int tile, int overlap) {
		if (tile < 0 || tile % LATENT_FACTOR != 0 || tile > Plan.MAX_SIZE) {
			throw new StableDiffusionException("The tile size " + tile + " is not possible: use 0 (no tiled diffusion) "
				+ "or a multiple of 8 up to " + Plan.MAX_SIZE + ", e.g. the model's native size.");
		}
		if (tile > 0 && (overlap < 0 || overlap % LATENT_FACTOR != 0 || overlap >= tile)) {
			throw new StableDiffusionException("The tile overlap " + overlap + " is not possible: use a multiple of 8 "
				+ "from 0 to " + (tile - LATENT_FACTOR) + " (less than the tile size " + tile + ").");
		}
	}

	private static String shorten(String s) {
		return s.length() <= 60 ? s : s.substring(0, 60) + "… (" + s.length() + " characters)";
	}
}
