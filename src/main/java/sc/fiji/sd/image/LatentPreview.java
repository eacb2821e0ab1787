package sc.fiji.sd.image;

import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.img.basictypeaccess.array.FloatArray;
import net.imglib2.type.numeric.real.FloatType;

/**
 * A cheap live preview of a latent image, without running the VAE decoder.
 * <p>
 * Uses AUTOMATIC1111's "approx cheap" projection: each of the 4 latent channels contributes a fixed amount of red,
 * green and blue. Applied to the scheduler's predicted denoised latents (x0), it shows roughly where the image is
 * heading, at latent resolution (1/8 of the image), in a few microseconds.
 */
public final class LatentPreview {

	/** Rows: latent channels 0..3; columns: R, G, B (A1111 "approx cheap", SD 1.x/2.x latent space). */
	static final double[][] LATENT_TO_RGB = { //
		{ 0.298, 0.207, 0.208 }, //
		{ 0.187, 0.286, 0.173 }, //
		{ -0.158, 0.189, 0.264 }, //
		{ -0.184, -0.271, -0.473 } };

	private LatentPreview() {}

	/**
	 * Projects one latent of a batch to an RGB image.
	 *
	 * @param latents flattened NCHW latents (batch × 4 × h × w), as the denoising loop holds them (scaled by the VAE
	 *          factor)
	 * @param shape {batch, channels, h, w}
	 * @param index which latent of the batch
	 * @param zoom each latent pixel becomes zoom × zoom image pixels (8 gives the image size)
	 * @return X × Y × 3 RGB in [0, 1], of size (w·zoom) × (h·zoom)
	 * @throws IllegalArgumentException when the latents do not have 4 channels (the projection is for SD 1.x/2.x)
	 */
	public static ArrayImg<FloatType, FloatArray> toRgb(float[] latents, long[] shape, int index, int zoom) {
		if (shape.length != 4 || shape[1] != LATENT_TO_RGB.length)
			throw new IllegalArgumentException("The preview needs 4-channel NCHW latents, got shape "
				+ java.util.Arrays.toString(shape));
		if (index < 0 || index >= shape[0]) throw new IllegalArgumentException("No latent " + index + " in batch of " + shape[0]);
		if (zoom < 1) throw new IllegalArgumentException("zoom must be at least 1");
		int channels = (int) shape[1], h = (int) shape[2], w = (int) shape[3];
		int plane = h * w, offset = index * channels * plane;
		int outW = w * zoom, outH = h * zoom;
		float[] rgb = new float[outW * outH * 3];
		for (int y = 0; y < h; y++) {
			for (int x = 0; x < w; x++) {
				for (int c = 0; c < 3; c++) {
					double sum = 0;
					for (int l = 0; l < channels; l++)
						sum += latents[offset + l * plane + y * w + x] * LATENT_TO_RGB[l][c];
					float v = (float) Math.min(1, Math.max(0, (sum + 1) / 2));
					// ArrayImg X × Y × C: x fastest, then y, then channel.
					int base = c * outW * outH;
					for (int dy = 0; dy < zoom; dy++) {
						int row = base + (y * zoom + dy) * outW + x * zoom;
						for (int dx = 0; dx < zoom; dx++)
							rgb[row + dx] = v;
					}
				}
			}
		}
		return ArrayImgs.floats(rgb, outW, outH, 3);
	}
}
