package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Map;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import net.imglib2.RandomAccess;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.provenance.PngReader;
import sc.fiji.sd.provenance.PngWriter;

/** {@code outpaint} on the embedded model: a larger canvas, every original pixel kept, the sides in the parameters. */
class CliOutpaintTest {

	@TempDir
	Path dir;

	@Test
	void theCanvasGrowsTheOriginalPixelsAreKeptAndTheParametersSaySo() throws Exception {
		var info = CliRun.MODELS.get(EmbeddedModel.path(), "auto").info();
		int size = info.nativeSize(), step = info.sizeStep();
		var image = ArrayImgs.floats(size, size, 3);
		RandomAccess<FloatType> i = image.randomAccess();
		for (int y = 0; y < size; y++)
			for (int x = 0; x < size; x++)
				for (int c = 0; c < 3; c++) {
					i.setPosition(new int[] { x, y, c });
					i.get().set(((x * 7 + y * 3 + c * 50) % 256) / 255f);
				}
		Path in = dir.resolve("in.png"), out = dir.resolve("out.png");
		PngWriter.write(in, image, Map.of());
		CliRun r = CliRun.of("outpaint", "--prompt", "a red circle", "--image", in.toString(), "--left",
			String.valueOf(step), "--bottom", String.valueOf(step), "--steps", "2", "--seed", "1", "--output",
			out.toString());
		assertEquals(0, r.exitCode(), r.err());
		BufferedImage before = ImageIO.read(in.toFile()), after = ImageIO.read(out.toFile());
		assertEquals(size + step, after.getWidth());
		assertEquals(size + step, after.getHeight());
		for (int y = 0; y < size; y++)
			for (int x = 0; x < size; x++)
				assertEquals(before.getRGB(x, y) & 0xffffff, after.getRGB(x + step, y) & 0xffffff, x + "," + y);
		String parameters = PngReader.readText(out).get("parameters");
		assertTrue(parameters.endsWith("Outpaint: \"left " + step + ", right 0, top 0, bottom " + step + "\""),
			parameters);
	}

	@Test
	void noSideIsAUsageError() {
		CliRun r = CliRun.of("outpaint", "--prompt", "x", "--image", dir.resolve("in.png").toString());
		assertEquals(2, r.exitCode());
		assertTrue(r.err().contains("--left, --right, --top or --bottom"), r.err());
	}
}
