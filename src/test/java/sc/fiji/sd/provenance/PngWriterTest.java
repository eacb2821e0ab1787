package sc.fiji.sd.provenance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import net.imglib2.RandomAccess;
import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.StableDiffusionException;

class PngWriterTest {

	@TempDir
	Path dir;

	@Test
	void pixelsAndTextChunksRoundTrip() throws Exception {
		Img<FloatType> rgb = ArrayImgs.floats(5, 3, 3);
		RandomAccess<FloatType> ra = rgb.randomAccess();
		ra.setPosition(new int[] { 4, 0, 0 }); // top right: red
		ra.get().set(1f);
		ra.setPosition(new int[] { 0, 2, 2 }); // bottom left: half blue
		ra.get().set(0.5f);
		Map<String, String> text = new LinkedHashMap<>();
		text.put("parameters", "a café\nSteps: 20, Sampler: Euler");
		text.put("Comment", "prompt with emoji \uD83D\uDC31 and 猫"); // not Latin-1: iTXt
		Path file = dir.resolve("out.png");
		PngWriter.write(file, rgb, text);

		BufferedImage bi = ImageIO.read(file.toFile());
		assertEquals(5, bi.getWidth());
		assertEquals(3, bi.getHeight());
		assertEquals(0xff0000, bi.getRGB(4, 0) & 0xffffff);
		assertEquals(128, bi.getRGB(0, 2) & 0xff);
		assertEquals(0, bi.getRGB(1, 1) & 0xffffff);
		assertEquals(text, PngReader.readText(file));
		try (var files = Files.list(dir)) {
			assertEquals(1, files.count(), "no temporary file left");
		}
	}

	@Test
	void eightBitRounding() {
		assertEquals(0, PngWriter.to8bit(Float.NaN));
		assertEquals(0, PngWriter.to8bit(-0.2f));
		assertEquals(128, PngWriter.to8bit(0.5f));
		assertEquals(255, PngWriter.to8bit(1.7f));
	}

	@Test
	void aFailedWriteLeavesNoFile() throws Exception {
		Path notAFolder = dir.resolve("file.txt");
		Files.writeString(notAFolder, "x");
		Path target = notAFolder.resolve("out.png");
		var e = assertThrows(StableDiffusionException.class, () -> PngWriter.write(target, ArrayImgs.floats(2, 2, 3), Map.of()));
		assertTrue(e.getMessage().contains("Cannot write"));
		assertFalse(Files.exists(target));
		try (var files = Files.list(dir)) {
			assertEquals(1, files.count());
		}
	}

	@Test
	void outputGetsTheUsualFilePermissionsNotATempFilesOwnerOnlyOnes() throws Exception {
		Path plain = dir.resolve("plain.txt");
		Files.writeString(plain, "x"); // what any other program writing here gets (umask)
		Path png = dir.resolve("out.png");
		PngWriter.write(png, ArrayImgs.floats(2, 2, 3), Map.of());
		assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(png));
		try (var left = Files.list(dir)) {
			assertEquals(2, left.count(), "no .part file may be left behind");
		}
	}
}
