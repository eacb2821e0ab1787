package sc.fiji.sd.pipeline;

import java.nio.file.Path;
import java.util.Map;

import net.imglib2.Cursor;
import net.imglib2.RandomAccess;
import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.onnx.VaeTiling;
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.provenance.PngWriter;

/**
 * Makes the README's docs/tiled-vae.png: {@link TiledVaeTest}'s picture through the VAE in one piece, in blended tiles,
 * and in tiles side by side. {@code java -cp target/classes:target/test-classes:… sc.fiji.sd.pipeline.TiledVaePicture OUT.png}
 */
public final class TiledVaePicture {

	private TiledVaePicture() {}

	public static void main(String[] args) {
		int size = TiledVaeTest.SIZE, gap = 8;
		Img<FloatType> picture = TiledVaeTest.picture();
		VaeTiling[] ways = { VaeTiling.NEVER,
			VaeTiling.always(TiledVaeTest.TILE, TiledVaeTest.OVERLAP), VaeTiling.always(TiledVaeTest.TILE, 0) };
		Img<FloatType> sheet = ArrayImgs.floats(ways.length * (size + gap) - gap, size, 3);
		sheet.forEach(t -> t.set(1f));
		try (StableDiffusionModel model = StableDiffusionModel.load(EmbeddedModel.path(), "cpu")) {
			StableDiffusionPipeline pipeline = new StableDiffusionPipeline(model);
			RandomAccess<FloatType> to = sheet.randomAccess();
			for (int k = 0; k < ways.length; k++) {
				pipeline.setVaeTiling(ways[k]);
				Cursor<FloatType> from = pipeline.vaeRoundTrip(picture).localizingCursor();
				while (from.hasNext()) {
					from.fwd();
					to.setPosition(new int[] { from.getIntPosition(0) + k * (size + gap), from.getIntPosition(1), from.getIntPosition(2) });
					to.get().set(from.get().get());
				}
			}
		}
		PngWriter.write(Path.of(args[0]), sheet, Map.of("Comment", "VAE round trip (embedded model): one piece | "
			+ "blended tiles | tiles side by side"));
	}
}
