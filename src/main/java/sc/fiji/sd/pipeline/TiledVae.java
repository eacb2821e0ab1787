package sc.fiji.sd.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * VAE encoding and decoding in overlapping tiles, so a large image needs only one tile's worth of VAE working memory
 * (the VAE's activations grow with the area: a 2048×2048 decode at once needs many GB).
 * <p>
 * Tiles are laid out in latent pixels: {@code tile} wide with {@code overlap} shared with the neighbour (the last tile
 * in a row or column is moved back to end at the image's edge). Each tile's output is weighted by a linear ramp across
 * the part it shares with a neighbour (0 at the tile's edge, 1 where the neighbour ends), and the weighted outputs are
 * summed and divided by the summed weights. So the tile edges, where the VAE saw zero padding instead of the
 * neighbourhood, hardly count, and one tile fades into the next instead of meeting it at a seam. Image borders keep
 * weight 1.
 */
public final class TiledVae {

	/** When to tile: above the size threshold, always (tests, benchmarks), or never. */
	public enum Use {
		AUTO, ALWAYS, NEVER;

		static Use parse(String s) {
			try {
				return valueOf(s.trim().toUpperCase(Locale.ROOT));
			}
			catch (IllegalArgumentException e) {
				throw new IllegalArgumentException("Unknown VAE tiling '" + s + "': use auto, always or never.");
			}
		}
	}

	/**
	 * @param use when to tile
	 * @param tile tile width and height in latent pixels (× 8 in image pixels)
	 * @param overlap latent pixels shared by neighbouring tiles, at most half the tile
	 * @param autoAbove with {@link Use#AUTO}: tile when the latent width or height is above this
	 */
	public record Options(Use use, int tile, int overlap, int autoAbove) {

		/**
		 * Defaults: 64-latent (512-pixel) tiles sharing 16 latents, used automatically above 128 latents (1024 pixels)
		 * on a side, below which SD 1.x VAEs decode in about 3 GB or less at once; where a decode this size fits, nothing
		 * changes for the usual image sizes.
		 */
		public static final Options DEFAULT = new Options(Use.AUTO, 64, 16, 128);

		public Options {
			if (tile < 2) throw new IllegalArgumentException("The VAE tile must be at least 2 latent pixels, not " + tile + ".");
			if (overlap < 0 || overlap > tile / 2) {
				throw new IllegalArgumentException("The VAE tile overlap must be between 0 and half the tile (" + tile / 2
					+ "), not " + overlap + ".");
			}
		}

		/**
		 * From system properties {@code sd.vaeTiling} (auto, always, never), {@code sd.vaeTile},
		 * {@code sd.vaeTileOverlap} and {@code sd.vaeTileAbove} (latent pixels); the defaults for those not set.
		 */
		public static Options fromProperties() {
			return new Options(Use.parse(System.getProperty("sd.vaeTiling", DEFAULT.use.name())),
				Integer.getInteger("sd.vaeTile", DEFAULT.tile), Integer.getInteger("sd.vaeTileOverlap", DEFAULT.overlap),
				Integer.getInteger("sd.vaeTileAbove", DEFAULT.autoAbove));
		}

		/** Always tile, with these tile and overlap sizes. */
		public static Options always(int tile, int overlap) {
			return new Options(Use.ALWAYS, tile, overlap, DEFAULT.autoAbove);
		}

		/** Whether a latent of this size is tiled (an image that fits one tile is never split). */
		public boolean tiles(int latentW, int latentH) {
			if (use == Use.NEVER || (latentW <= tile && latentH <= tile)) return false;
			return use == Use.ALWAYS || latentW > autoAbove || latentH > autoAbove;
		}
	}

	/** One VAE call on a tile: an NCHW tensor of one image, {@code width × height} in its own pixels. */
	@FunctionalInterface
	interface Codec {
		float[] run(float[] input, int width, int height);
	}

	private TiledVae() {}

	/** Decodes latents [4, lh, lw] (already divided by the scaling factor) to an image [3, 8·lh, 8·lw] in tiles. */
	static float[] decode(float[] latents, int latentW, int latentH, Options o, Codec decoder) {
		return run(latents, 4, 1, 3, 8, latentW, latentH, o, decoder);
	}

	/** Encodes an image [3, 8·lh, 8·lw] in [−1, 1] to latents [4, lh, lw] in tiles (the codec returns 4 channels). */
	static float[] encode(float[] image, int latentW, int latentH, Options o, Codec encoder) {
		return run(image, 3, 8, 4, 1, latentW, latentH, o, encoder);
	}

	/**
	 * The tiled run: tiles laid out in latent pixels; the input is {@code inScale} and the output {@code outScale}
	 * pixels per latent pixel.
	 */
	private static float[] run(float[] input, int inChannels, int inScale, int outChannels, int outScale, int latentW,
		int latentH, Options o, Codec codec)
	{
		int inW = latentW * inScale, inH = latentH * inScale, outW = latentW * outScale, outH = latentH * outScale;
		float[] sum = new float[outChannels * outW * outH];
		float[] weights = new float[outW * outH];
		List<int[]> xs = spans(latentW, o.tile(), o.overlap()), ys = spans(latentH, o.tile(), o.overlap());
		for (int[] ty : ys) {
			for (int[] tx : xs) {
				int tw = tx[1] * inScale, th = ty[1] * inScale;
				float[] crop = new float[inChannels * tw * th];
				for (int c = 0; c < inChannels; c++) {
					for (int y = 0; y < th; y++) {
						System.arraycopy(input, (c * inH + ty[0] * inScale + y) * inW + tx[0] * inScale, crop,
							(c * th + y) * tw, tw);
					}
				}
				float[] out = codec.run(crop, tw, th);
				int ow = tx[1] * outScale, oh = ty[1] * outScale;
				float[] wx = ramp(ow, tx[2] * outScale, tx[3] * outScale);
				float[] wy = ramp(oh, ty[2] * outScale, ty[3] * outScale);
				int x0 = tx[0] * outScale, y0 = ty[0] * outScale;
				for (int y = 0; y < oh; y++) {
					for (int x = 0; x < ow; x++) {
						float w = wx[x] * wy[y];
						int at = (y0 + y) * outW + x0 + x;
						weights[at] += w;
						for (int c = 0; c < outChannels; c++) sum[c * outW * outH + at] += w * out[(c * oh + y) * ow + x];
					}
				}
			}
		}
		int plane = outW * outH;
		for (int c = 0; c < outChannels; c++) {
			for (int i = 0; i < plane; i++) sum[c * plane + i] /= weights[i];
		}
		return sum;
	}

	/**
	 * The tiles along one axis of {@code size} latent pixels: {start, length, overlap with the previous tile, overlap
	 * with the next}. Tiles step by {@code tile − overlap}; the last one ends at the edge (overlapping more if needed).
	 */
	static List<int[]> spans(int size, int tile, int overlap) {
		List<int[]> starts = new ArrayList<>();
		if (size <= tile) {
			starts.add(new int[] { 0, size, 0, 0 });
			return starts;
		}
		int stride = tile - overlap;
		List<Integer> s = new ArrayList<>();
		for (int at = 0; at + tile < size; at += stride) s.add(at);
		s.add(size - tile);
		for (int i = 0; i < s.size(); i++) {
			int before = i == 0 ? 0 : s.get(i - 1) + tile - s.get(i);
			int after = i == s.size() - 1 ? 0 : s.get(i) + tile - s.get(i + 1);
			starts.add(new int[] { s.get(i), tile, before, after });
		}
		return starts;
	}

	/** Weights along a tile of {@code length}: linear from near 0 to 1 across each shared part, 1 elsewhere. */
	static float[] ramp(int length, int before, int after) {
		float[] w = new float[length];
		for (int i = 0; i < length; i++) {
			float a = before == 0 ? 1f : Math.min(1f, (i + 0.5f) / before);
			float b = after == 0 ? 1f : Math.min(1f, (length - i - 0.5f) / after);
			w[i] = Math.min(a, b);
		}
		return w;
	}
}
