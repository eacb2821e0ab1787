package sc.fiji.sd.bench;

import java.nio.file.Path;
import java.util.Locale;

import net.imglib2.Cursor;
import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.onnx.VaeTiling;
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.pipeline.StableDiffusionPipeline;
import sc.fiji.sd.pipeline.TiledVae;

/**
 * Encodes and decodes one large image through the VAE in tiles and reports the time and the peak memory:
 * {@code java -cp … sc.fiji.sd.bench.TiledVaeBench [SIZE [TILE OVERLAP [MODEL_DIR]]]} (defaults 2048, the tiling
 * defaults, the embedded model; TILE 0 decodes in one piece, for comparison).
 */
public final class TiledVaeBench {

	private TiledVaeBench() {}

	public static void main(String[] args) {
		int size = args.length > 0 ? Integer.parseInt(args[0]) : 2048;
		int tile = args.length > 1 ? Integer.parseInt(args[1]) : VaeTiling.DEFAULT.tile();
		int overlap = args.length > 2 ? Integer.parseInt(args[2]) : VaeTiling.DEFAULT.overlap();
		Path folder = args.length > 3 ? Path.of(args[3]) : EmbeddedModel.path();
		Img<FloatType> image = ArrayImgs.floats(size, size, 3);
		Cursor<FloatType> c = image.localizingCursor();
		while (c.hasNext()) {
			c.fwd();
			double x = c.getDoublePosition(0), y = c.getDoublePosition(1);
			c.get().set((float) (0.5 + 0.4 * Math.sin(0.01 * x + 0.02 * y + 2 * c.getIntPosition(2))));
		}
		try (StableDiffusionModel model = StableDiffusionModel.load(folder, "cpu")) {
			StableDiffusionPipeline pipeline = new StableDiffusionPipeline(model);
			pipeline.setVaeTiling(tile == 0 ? VaeTiling.NEVER
				: VaeTiling.always(tile, overlap));
			long rssBefore = MemoryStats.rss();
			MemoryStats.resetPeak();
			long start = System.nanoTime();
			Img<FloatType> out = pipeline.vaeRoundTrip(image);
			double seconds = (System.nanoTime() - start) / 1e9;
			System.out.printf(Locale.ROOT, "VAE encode + decode %dx%d (%s) on the CPU: %.1f s, peak RSS %.0f MiB "
				+ "(%.0f MiB before), Java heap peak %.0f MiB; output %dx%d%n", size, size,
				tile == 0 ? "in one piece" : tile + "-latent tiles, overlap " + overlap, seconds, MemoryStats.peakRss() / 1048576.0,
				rssBefore / 1048576.0, MemoryStats.heapPeak() / 1048576.0, out.dimension(0), out.dimension(1));
		}
	}
}
