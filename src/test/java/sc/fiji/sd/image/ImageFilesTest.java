package sc.fiji.sd.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.StableDiffusionException;

/** Input files: the declared size is checked before anything is decoded. */
class ImageFilesTest {

	@TempDir
	Path dir;

	/** A valid PNG header declaring {@code w × h} RGB pixels, followed by a little compressed data (a few hundred bytes). */
	static byte[] pngDeclaring(int w, int h) throws Exception {
		ByteArrayOutputStream file = new ByteArrayOutputStream();
		DataOutputStream out = new DataOutputStream(file);
		out.write(new byte[] { (byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' });
		ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
		DataOutputStream d = new DataOutputStream(ihdr);
		d.writeInt(w);
		d.writeInt(h);
		d.write(new byte[] { 8, 2, 0, 0, 0 });
		chunk(out, "IHDR", ihdr.toByteArray());
		Deflater deflater = new Deflater(9);
		deflater.setInput(new byte[1 << 20]); // zeros: a megabyte of rows compresses to about a kilobyte
		deflater.finish();
		byte[] buf = new byte[1 << 16];
		int n = deflater.deflate(buf);
		deflater.end();
		chunk(out, "IDAT", java.util.Arrays.copyOf(buf, n));
		chunk(out, "IEND", new byte[0]);
		return file.toByteArray();
	}

	private static void chunk(DataOutputStream out, String type, byte[] data) throws Exception {
		CRC32 crc = new CRC32();
		crc.update(type.getBytes(StandardCharsets.US_ASCII));
		crc.update(data);
		out.writeInt(data.length);
		out.writeBytes(type);
		out.write(data);
		out.writeInt((int) crc.getValue());
	}

	@Test
	void aSmallFileDeclaringAHugeImageIsRefusedBeforeDecoding() throws Exception {
		Path bomb = Files.write(dir.resolve("bomb.png"), pngDeclaring(26000, 26000));
		assertTrue(Files.size(bomb) < 10_000);
		var e = assertThrows(StableDiffusionException.class, () -> ImageFiles.readRgb(bomb));
		assertTrue(e.getMessage().contains("26000x26000") && e.getMessage().contains("at most 4096x4096"), e.getMessage());
		e = assertThrows(StableDiffusionException.class, () -> ImageFiles.readMask(bomb));
		assertTrue(e.getMessage().contains("The mask"), e.getMessage());
	}

	@Test
	void aTruncatedImageIsAMessage() throws Exception {
		byte[] png = pngDeclaring(64, 64);
		Path truncated = Files.write(dir.resolve("truncated.png"), java.util.Arrays.copyOf(png, 40));
		var e = assertThrows(StableDiffusionException.class, () -> ImageFiles.readRgb(truncated));
		assertTrue(e.getMessage().startsWith("Cannot read the image"), e.getMessage());
	}

	@Test
	void aSmallImageStillReads() throws Exception {
		Path ok = Files.write(dir.resolve("ok.png"), pngDeclaring(64, 8));
		assertEquals(64, ImageFiles.readRgb(ok).dimension(0));
	}

	@Test
	void greyAndTransparentImagesReadAsRgbAndAnEmptyFileIsAMessage() throws Exception {
		for (int type : new int[] { java.awt.image.BufferedImage.TYPE_BYTE_GRAY, java.awt.image.BufferedImage.TYPE_INT_ARGB,
			java.awt.image.BufferedImage.TYPE_USHORT_GRAY }) {
			var bi = new java.awt.image.BufferedImage(16, 8, type);
			bi.setRGB(3, 2, 0xffffffff);
			Path file = dir.resolve("t" + type + ".png");
			javax.imageio.ImageIO.write(bi, "png", file.toFile());
			var rgb = ImageFiles.readRgb(file);
			assertEquals(3, rgb.dimension(2));
			assertEquals(1f, rgb.getAt(3, 2, 0).get(), 1e-6);
			assertEquals(0f, rgb.getAt(4, 2, 1).get(), 1e-6);
		}
		Path empty = Files.write(dir.resolve("empty.png"), new byte[0]);
		var e = assertThrows(StableDiffusionException.class, () -> ImageFiles.readMask(empty));
		assertTrue(e.getMessage().startsWith("Cannot read the mask"), e.getMessage());
	}
}
