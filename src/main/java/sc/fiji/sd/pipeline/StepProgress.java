package sc.fiji.sd.pipeline;

/**
 * One finished denoising step.
 *
 * @param image index of the image within the whole run (batch count × batch size), from 0
 * @param images number of images in the run
 * @param step finished steps of this image, from 1
 * @param steps denoising steps per image
 * @param secondsPerStep mean wall time per step so far
 * @param latents current latents, flattened NCHW (batch × channels × h × w); do not modify
 * @param predictedOriginal the scheduler's predicted denoised latents (x0) when available, else null; unscaled
 * @param latentShape shape of {@code latents} as {batch, channels, height, width}
 */
public record StepProgress(int image, int images, int step, int steps, double secondsPerStep, float[] latents,
	float[] predictedOriginal, long[] latentShape) {}
