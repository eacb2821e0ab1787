package sc.fiji.sd.pipeline;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;

/**
 * {@link TiledDiffusionTest#tileBordersDoNotShow}'s measures seed by seed (the test takes the geometric mean over seeds
 * 1–8): the step at the tile borders over the step elsewhere on the latent grid for overlapping tiles and for each tile
 * alone, and the muddy pixels of both runs. {@code --input waves} runs the colour waves of the tiled VAE's test instead
 * of the shapes scene: an input outside the model's world, where tiles pick different backgrounds. Not a unit test; the
 * README's tiled-diffusion section has what it printed.
 * <pre>
 * java -cp target/classes:target/test-classes:… sc.fiji.sd.pipeline.TiledDiffusionSeeds [--seeds 1,2,3]
 *   [--input scene|waves]
 * </pre>
 */
public final class TiledDiffusionSeeds {

	private TiledDiffusionSeeds() {}

	public static void main(String[] args) {
		long[] seeds = { 1, 2, 3, 4, 5, 6, 7, 8 };
		boolean waves = false;
		for (int i = 0; i < args.length; i += 2) {
			switch (args[i]) {
				case "--seeds" -> seeds = Arrays.stream(args[i + 1].split(",")).mapToLong(Long::parseLong).toArray();
				case "--input" -> waves = switch (args[i + 1]) {
					case "scene" -> false;
					case "waves" -> true;
					default -> throw new IllegalArgumentException("--input is scene or waves, not " + args[i + 1]);
				};
				default -> throw new IllegalArgumentException("unknown option " + args[i]);
			}
		}
		int w = TiledDiffusionTest.W, h = TiledDiffusionTest.H, t = TiledDiffusionTest.TILE / 8;
		List<TiledDiffusionTest.Borders> layouts = TiledDiffusionTest.tileBorders(TiledDiffusionTest.OVERLAP);
		List<TiledDiffusionTest.Borders> sideBySide = List.of(new TiledDiffusionTest.Borders(
			TiledDiffusionTest.borders(List.of(0, t, 2 * t), t, w / 8), TiledDiffusionTest.borders(List.of(0, t), t, h / 8)));
		double logTiled = 0, logAlone = 0;
		for (long seed : seeds) {
			GenerationRequest.Builder untiled = TiledDiffusionTest.request(w, h, 0, 0).seed(seed);
			if (waves) untiled.initImage(TiledVaeTest.picture(w, h)).prompt("a red circle");
			Img<FloatType> whole = pixels(untiled.build());
			Img<FloatType> tiled = pixels(untiled.tileSize(TiledDiffusionTest.TILE).tileOverlap(TiledDiffusionTest.OVERLAP)
				.build());
			Img<FloatType> alone = TiledDiffusionTest.eachTileAlone(untiled.tileSize(0));
			double tiledRatio = TiledDiffusionTest.borderRatio(tiled, layouts);
			double aloneRatio = TiledDiffusionTest.borderRatio(alone, sideBySide);
			logTiled += Math.log(tiledRatio) / seeds.length;
			logAlone += Math.log(aloneRatio) / seeds.length;
			System.out.printf(Locale.ROOT, "seed %d (%s): border/grid step ratio: tiled %.3f, each tile alone %.3f; muddy "
				+ "pixels: tiled %.4f, untiled %.4f%n", seed, waves ? "waves" : "scene", tiledRatio, aloneRatio,
				TiledDiffusionTest.muddy(tiled), TiledDiffusionTest.muddy(whole));
		}
		System.out.printf(Locale.ROOT, "geometric mean over %d seeds: tiled %.3f, each tile alone %.3f%n", seeds.length,
			Math.exp(logTiled), Math.exp(logAlone));
	}

	private static Img<FloatType> pixels(GenerationRequest r) {
		return TestModels.pipeline("embedded").generate(r, null).images().get(0).pixels();
	}
}
