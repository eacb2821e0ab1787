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
import sc.fiji.sd.provenance.PngWriter;

/** The command line with a partial mask at the default feather: every pixel outside the mask is the input's. */
class CliInpaintOutsideMaskTest {

	@TempDir
	Path dir;

	@Test
	void everyPixelOutsideAPartialMaskIsKeptAtTheDefaultFeather() throws Exception {
		int size = 64;
		var image = ArrayImgs.floats(size, size, 3);
		var mask = ArrayImgs.floats(size, size, 3);
		RandomAccess<FloatType> i = image.randomAccess(), m = mask.randomAccess();
		for (int y = 0; y < size; y++)
			for (int x = 0; x < size; x++)
				for (int c = 0; c < 3; c++) {
					i.setPosition(new int[] { x, y, c });
					i.get().set(((x * 7 + y * 3 + c * 50) % 256) / 255f); // texture: a blur would show
					m.setPosition(new int[] { x, y, c });
					m.get().set(inside(x, y) ? 1f : 0f);
				}
		Path in = dir.resolve("in.png"), maskFile = dir.resolve("mask.png"), out = dir.resolve("out.png");
		PngWriter.write(in, image, Map.of());
		PngWriter.write(maskFile, mask, Map.of());
		CliRun r = CliRun.of("inpaint", "--prompt", "a green dot", "--image", in.toString(), "--mask",
			maskFile.toString(), "--steps", "2", "--seed", "1", "--output", out.toString());
		assertEquals(0, r.exitCode(), r.err());
		BufferedImage before = ImageIO.read(in.toFile()), after = ImageIO.read(out.toFile());
		int changedOutside = 0, repainted = 0;
		for (int y = 0; y < size; y++)
			for (int x = 0; x < size; x++) {
				boolean same = (before.getRGB(x, y) & 0xffffff) == (after.getRGB(x, y) & 0xffffff);
				if (!inside(x, y) && !same) changedOutside++;
				if (inside(x, y) && !same) repainted++;
			}
		assertEquals(0, changedOutside, "pixels outside the mask changed");
		assertTrue(repainted > 0, "nothing was repainted");
	}

	private static boolean inside(int x, int y) {
		return x >= 20 && x < 50 && y >= 17 && y < 41;
	}
}
