package sc.fiji.sd.onnx;

import java.util.Locale;

/**
 * When and how the VAE encodes and decodes in overlapping tiles ({@code pipeline.TiledVae}): a runtime option like the
 * CFG mode, part of {@link RuntimeOptions} and read from system properties only at the edge.
 *
 * @param use when to tile
 * @param tile tile width and height in latent pixels (× 8 in image pixels)
 * @param overlap latent pixels shared by neighbouring tiles, at most half the tile
 * @param autoAbove with {@link Use#AUTO}: tile when the latent width or height is above this
 */
public record VaeTiling(Use use, int tile, int overlap, int autoAbove) {

	/** When to tile: above the size threshold, always (tests, benchmarks), or never. */
	public enum Use {
		AUTO, ALWAYS, NEVER;

		public static Use parse(String s) {
			try {
				return valueOf(s.trim().toUpperCase(Locale.ROOT));
			}
			catch (IllegalArgumentException e) {
				throw new IllegalArgumentException("Unknown VAE tiling '" + s + "': use auto, always or never.");
			}
		}
	}

	/**
	 * Defaults: 64-latent (512-pixel) tiles sharing 16 latents, used automatically above 128 latents (1024 pixels) on a
	 * side, below which SD 1.x VAEs decode in about 3 GB or less at once; where a decode this size fits, nothing changes
	 * for the usual image sizes.
	 */
	public static final VaeTiling DEFAULT = new VaeTiling(Use.AUTO, 64, 16, 128);

	/** Never tile. */
	public static final VaeTiling NEVER = new VaeTiling(Use.NEVER, DEFAULT.tile, DEFAULT.overlap, DEFAULT.autoAbove);

	public VaeTiling {
		if (use == null) throw new NullPointerException("use");
		if (tile < 2) throw new IllegalArgumentException("The VAE tile must be at least 2 latent pixels, not " + tile + ".");
		if (overlap < 0 || overlap > tile / 2) {
			throw new IllegalArgumentException("The VAE tile overlap must be between 0 and half the tile (" + tile / 2
				+ "), not " + overlap + ".");
		}
	}

	/**
	 * From the values of the system properties {@code sd.vaeTiling} (auto, always, never), {@code sd.vaeTile},
	 * {@code sd.vaeTileOverlap} and {@code sd.vaeTileAbove} (latent pixels; null: the default).
	 */
	static VaeTiling parse(String use, Integer tile, Integer overlap, Integer above) {
		return new VaeTiling(use == null ? DEFAULT.use : Use.parse(use), tile == null ? DEFAULT.tile : tile,
			overlap == null ? DEFAULT.overlap : overlap, above == null ? DEFAULT.autoAbove : above);
	}

	/** Always tile, with these tile and overlap sizes. */
	public static VaeTiling always(int tile, int overlap) {
		return new VaeTiling(Use.ALWAYS, tile, overlap, DEFAULT.autoAbove);
	}

	/** Whether a latent of this size is tiled (an image that fits one tile is never split). */
	public boolean tiles(int latentW, int latentH) {
		if (use == Use.NEVER || (latentW <= tile && latentH <= tile)) return false;
		return use == Use.ALWAYS || latentW > autoAbove || latentH > autoAbove;
	}
}
