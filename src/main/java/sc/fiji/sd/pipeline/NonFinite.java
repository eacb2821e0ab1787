package sc.fiji.sd.pipeline;

import sc.fiji.sd.StableDiffusionException;

/**
 * Stops a run whose numbers became NaN or infinite, naming the component that made them and what to try.
 * <p>
 * Why: images are clamped to [0, 1] on the way out and NaN becomes 0 there, so without this check a broken or
 * overflowing model (the classic case: an fp16 VAE) gives a black image that looks like a result. A scan of the
 * latents costs next to nothing beside a UNet call, so it runs after every step.
 */
final class NonFinite {

	private NonFinite() {}

	/** The index of the first NaN or infinite value, or −1. */
	static int first(float[] values) {
		for (int i = 0; i < values.length; i++) if (!Float.isFinite(values[i])) return i;
		return -1;
	}

	static void checkInputImage(float[] nchw) {
		if (first(nchw) >= 0) throw new StableDiffusionException("The input image has NaN or infinite pixel values. "
			+ "Replace them (e.g. Process › Math › Remove NaNs… in ImageJ) or set the display range, then try again.");
	}

	static void checkTextEncoder(float[] hidden) {
		if (hidden != null && first(hidden) >= 0) throw new StableDiffusionException("The text encoder returned NaN "
			+ "or infinite values. The model's text_encoder/model.onnx is broken or overflows in half precision: use an "
			+ "fp32 export of the model.");
	}

	static void checkUnet(float[] prediction, int step, int steps) {
		if (first(prediction) >= 0) throw new StableDiffusionException("The UNet returned NaN or infinite values at "
			+ "step " + step + " of " + steps + ". A half-precision (fp16) UNet can overflow: use an fp32 model, fewer "
			+ "steps or a lower guidance (CFG scale); if every setting fails, unet/model.onnx is broken.");
	}

	static void checkLatents(float[] latents, String sampler, int step, int steps) {
		if (first(latents) >= 0) throw new StableDiffusionException("The latents became NaN or infinite at step "
			+ step + " of " + steps + " in the sampler " + sampler + ", though the UNet's output was finite. Try another "
			+ "sampler, more steps or a lower guidance (CFG scale).");
	}

	static void checkVaeEncoder(float[] latents) {
		if (first(latents) >= 0) throw new StableDiffusionException("The VAE encoder returned NaN or infinite values "
			+ "for the input image. A half-precision (fp16) VAE can overflow: use an fp32 VAE encoder "
			+ "(vae_encoder/model.onnx of an fp32 export) or a smaller image; if it always happens, the file is broken.");
	}

	/** The tiny decoder (TAESD) of {@code folder}: not the VAE, so none of the fp16-VAE advice applies. */
	static void checkTinyDecoder(float[] pixels, int image, java.nio.file.Path folder) {
		if (first(pixels) < 0) return;
		String which = image > 0 ? "for image " + (image + 1) + " " : "";
		throw new StableDiffusionException("The tiny decoder returned NaN or infinite values " + which + "(the image "
			+ "would be black). Decode with the model's own VAE instead (leave out --decoder, or turn off \"Decode the "
			+ "final images with it too\" in Stable Diffusion Settings); if it always happens, the tiny decoder in "
			+ folder + " is broken or not made for this model.");
	}

	/** @param upcast whether the values came from an fp16 decoder rewritten in fp32, after it had overflowed */
	static void checkVaeDecoder(float[] pixels, int image, boolean upcast) {
		if (first(pixels) < 0) return;
		String which = image > 0 ? "for image " + (image + 1) + " " : "";
		if (upcast) throw new StableDiffusionException("The VAE decoder returned NaN or infinite values " + which
			+ "in half precision (fp16) and again when run in fp32: the latents themselves are out of range. Try fewer "
			+ "steps or a lower guidance (CFG scale); if it always happens, vae_decoder/model.onnx is broken.");
		throw new StableDiffusionException("The VAE decoder returned NaN or infinite values " + which + "(the image "
			+ "would be black). A half-precision (fp16) VAE overflows on some latents: use an fp32 VAE decoder "
			+ "(vae_decoder/model.onnx of an fp32 export), fewer steps or a lower guidance (CFG scale); if it always "
			+ "happens, the file is broken.");
	}
}
