package sc.fiji.sd.pipeline;

import java.util.ArrayList;
import java.util.List;

import sc.fiji.sd.onnx.VaeTiling;

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

	/** One VAE call on a tile: an NCHW tensor of one image, {@code width × height} in its own pixels. */
	@FunctionalInterface
	interface Codec {
		float[] run(float[] input, int width, int height);
	}

	private TiledVae() {}

	/** Decodes latents [4, lh, lw] (already divided by the scaling factor) to an image [3, 8·lh, 8·lw] in tiles. */
	static float[] decode(float[] latents, int latentW, int latentH, VaeTiling o, Codec decoder) {
		return run(latents, 4, 1, 3, 8, latentW, latentH, o, decoder);
	}

	/** Encodes an image [3, 8·lh, 8·lw] in [−1, 1] to latents [4, lh, lw] in tiles (the codec returns 4 channels). */
	static float[] encode(float[] image, int latentW, int latentH, VaeTiling o, Codec encoder) {
		return run(image, 3, 8, 4, 1, latentW, latentH, o, encoder);
	}

	/**
	 * The tiled run: tiles laid out in latent pixels; the input is {@code inScale} and the output {@code outScale}
	 * pixels per latent pixel.
	 */
	private static float[] run(float[] input, int inChannels, int inScale, int outChannels, int outScale, int latentW,
		int latentH, VaeTiling o, Codec codec)
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
		return spans(size, tile, overlap, 0);
	}

	/**
	 * As above with the tiles after the first shifted by {@code offset} (0 ≤ offset < tile − overlap): tiles start at 0,
	 * then at {@code offset + k·(tile − overlap)}, and the last ends at the edge. Tiled diffusion shifts its tiles so
	 * every step (TiledUnet).
	 */
	static List<int[]> spans(int size, int tile, int overlap, int offset) {
		List<int[]> spans = new ArrayList<>();
		if (size <= tile) {
			spans.add(new int[] { 0, size, 0, 0 });
			return spans;
		}
		int stride = Math.max(1, tile - overlap);
		List<Integer> s = new ArrayList<>();
		if (offset > 0) s.add(0);
		for (int at = offset; at + tile < size; at += stride) s.add(at);
		s.add(size - tile);
		for (int i = 0; i < s.size(); i++) {
			int before = i == 0 ? 0 : s.get(i - 1) + tile - s.get(i);
			int after = i == s.size() - 1 ? 0 : s.get(i) + tile - s.get(i + 1);
			spans.add(new int[] { s.get(i), tile, before, after });
		}
		return spans;
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
