package sc.fiji.sd.cli;

import picocli.CommandLine.Option;
import sc.fiji.sd.pipeline.GenerationRequest;

/** Mixin for image to image and inpainting: tiled diffusion ({@code --tile PX}, {@code --tile-overlap PX}). */
public class TileOptions {

	@Option(names = "--tile", paramLabel = "PX", defaultValue = "0", description = "Tiled diffusion (MultiDiffusion) "
		+ "for images larger than the model's size: the UNet denoises square tiles of this many pixels (e.g. the "
		+ "model's native size) and averages them where they overlap; 0 = off (default).")
	int tile;

	@Option(names = "--tile-overlap", paramLabel = "PX", defaultValue = "16", description = "Pixels neighbouring "
		+ "tiles share, a multiple of 8 below the tile size (default: ${DEFAULT-VALUE}).")
	int overlap;

	/** The request with the tiling asked for; the request's checks refuse bad values (exit code 2). */
	GenerationRequest.Builder apply(GenerationRequest.Builder builder) {
		return builder.tileSize(tile).tileOverlap(overlap);
	}
}
