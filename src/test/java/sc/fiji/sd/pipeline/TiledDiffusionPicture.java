package sc.fiji.sd.pipeline;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import net.imglib2.RandomAccess;
import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.provenance.PngWriter;

/**
 * Makes the README's docs/tiled-diffusion.png: {@link TiledDiffusionTest}'s 192×128 image to image on the embedded
 * model (native 64 pixels), top to bottom: the input, the UNet on the whole image, 64-pixel tiles overlapping by 16
 * (tiled diffusion), each 64-pixel tile of the input denoised alone and put side by side. {@code java -cp
 * target/classes:target/test-classes:… sc.fiji.sd.pipeline.TiledDiffusionPicture OUT.png [SEED]}
 */
public final class TiledDiffusionPicture {

	private TiledDiffusionPicture() {}

	public static void main(String[] args) {
		int w = TiledDiffusionTest.W, h = TiledDiffusionTest.H, gap = 8, tile = TiledDiffusionTest.TILE;
		long seed = args.length > 1 ? Long.parseLong(args[1]) : 5; // the test's seed unless another is given
		try (StableDiffusionModel model = StableDiffusionModel.load(EmbeddedModel.path(), "cpu")) {
			StableDiffusionPipeline pipeline = new StableDiffusionPipeline(model);
			Function<GenerationRequest.Builder, Img<FloatType>> run = request -> pipeline.generate(request.seed(seed)
				.build(), null).images().get(0).pixels();
			List<Img<FloatType>> rows = List.of(TiledDiffusionTest.scene(w, h),
				run.apply(TiledDiffusionTest.request(w, h, 0, 0)),
				run.apply(TiledDiffusionTest.request(w, h, tile, TiledDiffusionTest.OVERLAP)),
				TiledDiffusionTest.eachTileAlone(pipeline, TiledDiffusionTest.request(w, h, 0, 0).seed(seed)));
			Img<FloatType> sheet = ArrayImgs.floats(w, rows.size() * (h + gap) - gap, 3);
			sheet.forEach(t -> t.set(1f));
			RandomAccess<FloatType> to = sheet.randomAccess();
			for (int k = 0; k < rows.size(); k++) {
				int top = k * (h + gap);
				var from = rows.get(k).localizingCursor();
				while (from.hasNext()) {
					from.fwd();
					to.setPosition(new int[] { from.getIntPosition(0), top + from.getIntPosition(1), from.getIntPosition(2) });
					to.get().set(from.get().get());
				}
			}
			PngWriter.write(Path.of(args[0]), sheet, Map.of("Comment", "Image to image 192x128 (embedded model, native "
				+ "64 px), top to bottom: input | untiled | tiled diffusion 64 px, overlap 16 | each tile alone, side by side"));
		}
	}
}
