package sc.fiji.sd.image;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.Iterator;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

import net.imglib2.RandomAccess;
import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.StableDiffusionException;

/** Reads image files (PNG, JPEG, BMP, GIF, TIFF: what the JDK's ImageIO reads) as init images and masks. */
public final class ImageFiles {

	/** The largest side an input can have: the largest output size (the pipeline's limit). */
	public static final int MAX_SIDE = 4096;

	private ImageFiles() {}

	/** An X × Y × 3 RGB image in [0, 1]. */
	public static Img<FloatType> readRgb(Path file) {
		BufferedImage bi = read(file, "image");
		int w = bi.getWidth(), h = bi.getHeight();
		Img<FloatType> img = ArrayImgs.floats(w, h, 3);
		RandomAccess<FloatType> ra = img.randomAccess();
		for (int y = 0; y < h; y++) {
			for (int x = 0; x < w; x++) {
				int rgb = bi.getRGB(x, y);
				ra.setPosition(x, 0);
				ra.setPosition(y, 1);
				for (int c = 0; c < 3; c++) {
					ra.setPosition(c, 2);
					ra.get().set(((rgb >> (16 - 8 * c)) & 0xff) / 255f);
				}
			}
		}
		return img;
	}

	/** An X × Y mask in [0, 1]: the grey level (mean of R, G, B) of the file; white = repaint. */
	public static Img<FloatType> readMask(Path file) {
		BufferedImage bi = read(file, "mask");
		int w = bi.getWidth(), h = bi.getHeight();
		Img<FloatType> img = ArrayImgs.floats(w, h);
		RandomAccess<FloatType> ra = img.randomAccess();
		for (int y = 0; y < h; y++) {
			for (int x = 0; x < w; x++) {
				int rgb = bi.getRGB(x, y);
				float v = (((rgb >> 16) & 0xff) + ((rgb >> 8) & 0xff) + (rgb & 0xff)) / (3 * 255f);
				ra.setPosition(x, 0);
				ra.setPosition(y, 1);
				ra.get().set(v);
			}
		}
		return img;
	}

	private static BufferedImage read(Path file, String what) {
		if (!Files.isRegularFile(file)) {
			throw new StableDiffusionException("The " + what + " file " + file + " does not exist.");
		}
		BufferedImage bi;
		try {
			bi = readChecked(file, what);
		}
		catch (IOException | RuntimeException e) {
			if (e instanceof StableDiffusionException sde) throw sde;
			throw new StableDiffusionException("Cannot read the " + what + " " + file + ": " + e.getMessage()
				+ ". Use a PNG, JPEG, BMP, GIF or TIFF file.", e);
		}
		if (bi == null) {
			throw new StableDiffusionException("Cannot read the " + what + " " + file
				+ ": not an image format Java can read. Use a PNG, JPEG, BMP, GIF or TIFF file.");
		}
		return bi;
	}

	/**
	 * Decodes the first image of {@code file} after reading only its header's size: a small file can declare
	 * 26000 × 26000 pixels (a decompression bomb) and decoding it would need gigabytes. Null when no reader knows the format.
	 */
	private static BufferedImage readChecked(Path file, String what) throws IOException {
		try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
			if (in == null) return null;
			Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
			if (!readers.hasNext()) return null;
			ImageReader reader = readers.next();
			try {
				reader.setInput(in, true, true);
				int w = reader.getWidth(0), h = reader.getHeight(0);
				if (w > MAX_SIDE || h > MAX_SIDE) {
					throw new StableDiffusionException("The " + what + " " + file + " is " + w + "x" + h + " pixels; at most "
						+ MAX_SIDE + "x" + MAX_SIDE + " can be generated. Scale it down first (and check the file: a small "
						+ "file that declares a huge size is broken or hostile).");
				}
				return reader.read(0);
			}
			finally {
				reader.dispose();
			}
		}
	}
}
