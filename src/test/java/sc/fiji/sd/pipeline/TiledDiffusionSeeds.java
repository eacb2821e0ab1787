package sc.fiji.sd.pipeline;

import java.util.Arrays;
import java.util.Locale;
import java.util.TreeSet;

import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;

/**
 * {@link TiledDiffusionTest#overlappingTilesLeaveNoSeam}'s measure over several seeds (its test uses seed 5): the
 * border/interior step ratio of the untiled run, of overlapping tiles and of tiles side by side, each on the tile
 * borders of its own layout. Not a unit test; the base model card ("A sixth base") has what it printed.
 * <pre>
 * java -cp target/classes:target/test-classes:… sc.fiji.sd.pipeline.TiledDiffusionSeeds [--seeds 5,6,7]
 *   [--overlap 16] [--strength 0.5] [--sampler "DPM++ 2M"]
 * </pre>
 */
public final class TiledDiffusionSeeds {

	private TiledDiffusionSeeds() {}

	public static void main(String[] args) {
		long[] seeds = { 5, 6, 7 };
		int overlap = TiledDiffusionTest.OVERLAP;
		double strength = 0.5;
		String sampler = "DPM++ 2M";
		for (int i = 0; i < args.length; i += 2) {
			switch (args[i]) {
				case "--seeds" -> seeds = Arrays.stream(args[i + 1].split(",")).mapToLong(Long::parseLong).toArray();
				case "--overlap" -> overlap = Integer.parseInt(args[i + 1]);
				case "--strength" -> strength = Double.parseDouble(args[i + 1]);
				case "--sampler" -> sampler = args[i + 1];
				default -> throw new IllegalArgumentException("unknown option " + args[i]);
			}
		}
		int w = TiledDiffusionTest.W, h = TiledDiffusionTest.H, tile = TiledDiffusionTest.TILE / 8;
		TreeSet<Integer> columns = TiledDiffusionTest.borders(w / 8, tile, overlap / 8);
		TreeSet<Integer> rows = TiledDiffusionTest.borders(h / 8, tile, overlap / 8);
		for (long seed : seeds) {
			GenerationRequest.Builder b = TiledDiffusionTest.request(w, h, 0, 0).seed(seed).strength(strength)
				.scheduler(sampler);
			double untiled = TiledVaeTest.seamRatio(pixels(b.build()), columns, rows);
			double tiled = TiledVaeTest.seamRatio(pixels(b.tileSize(TiledDiffusionTest.TILE).tileOverlap(overlap).build()),
				columns, rows);
			double sideBySide = TiledVaeTest.seamRatio(pixels(b.tileOverlap(0).build()),
				TiledDiffusionTest.borders(w / 8, tile, 0), TiledDiffusionTest.borders(h / 8, tile, 0));
			System.out.printf(Locale.ROOT, "seed %d, overlap %d, strength %s, %s: untiled %.2f, tiled %.2f (bound %.2f: %s),"
				+ " side by side %.2f%n", seed, overlap, strength, sampler, untiled, tiled, untiled + 0.25,
				tiled <= untiled + 0.25 ? "holds" : "fails", sideBySide);
		}
	}

	private static Img<FloatType> pixels(GenerationRequest r) {
		return TestModels.pipeline("embedded").generate(r, null).images().get(0).pixels();
	}
}
