package sc.fiji.sd.pipeline;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.model.ModelInfo;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/**
 * A request checked against the model, with defaults resolved: size, seed, whether CFG runs, latent size.
 * Every problem a user can fix is a {@link StableDiffusionException} that says what to change.
 */
final class Plan {

	static final int MAX_SIZE = 4096;

	Mode mode;
	int width, height, latentW, latentH;
	int steps, batch;
	double guidance, strength;
	long seed;
	boolean cfg;
	String schedulerName;
	VariationSeeds variation;
	/** Tiled diffusion, in latents: tile width and height (0 = off; at most the latent size) and the overlap. */
	int tileW, tileH, tileOverlap;

	/**
	 * Whether classifier-free guidance runs: LCM models take guidance through timestep_cond and run no unconditional
	 * pass; others do CFG above 1.
	 */
	static boolean cfg(GenerationRequest r, ModelInfo info) {
		return r.guidance() > 1.0 && !info.lcm();
	}

	static Plan forSize(int width, int height) {
		Plan p = new Plan();
		p.width = width;
		p.height = height;
		p.latentW = width / 8;
		p.latentH = height / 8;
		return p;
	}

	static Plan of(GenerationRequest r, ModelInfo info) {
		Plan p = new Plan();
		p.mode = r.mode();
		RequestChecks.check(r, info.sizeStep());
		RandomAccessibleInterval<FloatType> image = r.initImage(), mask = r.mask();
		if (p.mode == Mode.IMAGE_TO_IMAGE && image == null) {
			throw new StableDiffusionException("Image to image needs an input image.");
		}
		if (p.mode == Mode.INPAINT && (image == null || mask == null)) {
			throw new StableDiffusionException("Inpainting needs an input image and a mask (white = repaint).");
		}
		if (image != null && p.mode != Mode.TEXT_TO_IMAGE) {
			if (image.numDimensions() != 3 || image.dimension(2) != 3) {
				throw new StableDiffusionException("The input image must be RGB (X × Y × 3); convert it to RGB first.");
			}
			if (!info.hasVaeEncoder()) {
				throw new StableDiffusionException("This model has no vae_encoder/model.onnx, so it cannot do image to "
					+ "image or inpainting. Use a complete ONNX export.");
			}
		}
		if (mask != null && p.mode == Mode.INPAINT) {
			if (mask.numDimensions() != 2) {
				throw new StableDiffusionException("The mask must be a single-channel image (X × Y), white = repaint.");
			}
			if (mask.dimension(0) != image.dimension(0) || mask.dimension(1) != image.dimension(1)) {
				throw new StableDiffusionException("The mask is " + mask.dimension(0) + "x" + mask.dimension(1)
					+ " but the image is " + image.dimension(0) + "x" + image.dimension(1)
					+ ": they must have the same size.");
			}
		}

		boolean fromImage = p.mode != Mode.TEXT_TO_IMAGE;
		int w = r.width() > 0 ? r.width() : fromImage ? (int) image.dimension(0) : info.nativeSize();
		int h = r.height() > 0 ? r.height() : fromImage ? (int) image.dimension(1) : info.nativeSize();
		checkSize("Width", w, info.sizeStep());
		checkSize("Height", h, info.sizeStep());
		if (fromImage && (image.dimension(0) != w || image.dimension(1) != h)) {
			throw new StableDiffusionException("The input image is " + image.dimension(0) + "x" + image.dimension(1)
				+ " but the output size is " + w + "x" + h + ": leave width and height unset to use the image's size, "
				+ "or resize the image.");
		}
		p.width = w;
		p.height = h;
		p.latentW = w / 8;
		p.latentH = h / 8;
		p.steps = r.steps();
		p.batch = r.batchSize();
		p.guidance = r.guidance();
		p.strength = r.strength();
		p.cfg = cfg(r, info);
		p.seed = Seeds.resolve(r.seed());
		p.variation = new VariationSeeds(p.seed, Seeds.resolve(r.variationSeed()), r.variationStrength());
		if (r.tileSize() > 0) {
			if (r.tileSize() % info.sizeStep() != 0) {
				throw new StableDiffusionException("The tile size " + r.tileSize() + " is not possible with this model: "
					+ "use a multiple of " + info.sizeStep() + ", e.g. its native size " + info.nativeSize() + ".");
			}
			p.tileW = Math.min(r.tileSize(), w) / 8;
			p.tileH = Math.min(r.tileSize(), h) / 8;
			p.tileOverlap = r.tileOverlap() / 8;
		}
		p.schedulerName = r.scheduler() == null || r.scheduler().isBlank() ? null : r.scheduler().trim();
		return p;
	}

	/** Width in pixels of what one UNet call sees: the tile with tiled diffusion, else the image. */
	int unetWidth() {
		return tileW > 0 ? tileW * 8 : width;
	}

	int unetHeight() {
		return tileH > 0 ? tileH * 8 : height;
	}

	static void checkSize(String what, int size, int step) {
		if (size < step || size > MAX_SIZE || size % step != 0) {
			int lower = Math.max(step, size / step * step), upper = Math.min(MAX_SIZE / step * step, lower + step);
			String nearest = size < step ? String.valueOf(step) : size > MAX_SIZE ? String.valueOf(upper)
				: lower == upper ? String.valueOf(lower) : lower + " or " + upper;
			throw new StableDiffusionException(what + " " + size + " is not possible: this model needs a multiple of "
				+ step + " between " + step + " and " + (MAX_SIZE / step * step) + ". Nearest: " + nearest + ".");
		}
	}
}
