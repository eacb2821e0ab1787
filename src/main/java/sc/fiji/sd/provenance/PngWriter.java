package sc.fiji.sd.provenance;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;

import net.imglib2.RandomAccess;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.type.numeric.real.FloatType;
import net.imglib2.view.Views;
import sc.fiji.sd.StableDiffusionException;

/**
 * Writes 8-bit RGB PNGs with text chunks (the provenance).
 * <p>
 * Text that fits Latin-1 goes into {@code tEXt} chunks (what A1111 writes and every reader knows); other text (emoji,
 * CJK prompts) into uncompressed UTF-8 {@code iTXt}. The file is written to a temporary file beside the target and
 * then moved into place, so a failure never leaves a partial output.
 */
public final class PngWriter {

	private static final byte[] SIGNATURE = { (byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

	private PngWriter() {}

	/** Writes {@code rgb} (X × Y × 3, values in [0, 1], rounded to 8 bits) with the given text chunks. */
	public static void write(Path file, RandomAccessibleInterval<FloatType> rgb, Map<String, String> text) {
		if (rgb.numDimensions() != 3 || rgb.dimension(2) != 3) {
			throw new IllegalArgumentException("PNG output needs an X × Y × 3 RGB image");
		}
		Path target = file.toAbsolutePath();
		Path dir = target.getParent();
		Path tmp = null;
		try {
			OutputTarget.checkReplaceable(target); // never a device such as /dev/null, a folder or a pipe
			if (dir != null) Files.createDirectories(dir);
			// Not Files.createTempFile: its owner-only permissions would stay on the moved file; a plain new file
			// gets the user's usual permissions (umask), like any other image they save.
			tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(System.nanoTime()) + ".part");
			try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
				encode(out, rgb, text);
			}
			OutputTarget.keepPermissions(target, tmp);
			OutputTarget.moveIntoPlace(tmp, target);
			tmp = null;
		}
		catch (IOException e) {
			throw new StableDiffusionException("Cannot write " + file + ": " + e.getMessage()
				+ ". Check that the folder exists and is writable.", e);
		}
		finally {
			if (tmp != null) {
				try {
					Files.deleteIfExists(tmp);
				}
				catch (IOException ignored) {
					// best effort
				}
			}
		}
	}

	/**
	 * Writes a new file {@code file} directly, with no temporary file of its own: for a caller that writes to its own
	 * temporary name and renames it later. Fails if {@code file} exists.
	 */
	public static void writeNew(Path file, RandomAccessibleInterval<FloatType> rgb, Map<String, String> text) {
		if (rgb.numDimensions() != 3 || rgb.dimension(2) != 3) {
			throw new IllegalArgumentException("PNG output needs an X × Y × 3 RGB image");
		}
		try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE_NEW,
			StandardOpenOption.WRITE)))
		{
			encode(out, rgb, text);
		}
		catch (IOException e) {
			throw new StableDiffusionException("Cannot write " + file + ": " + e.getMessage()
				+ ". Check that the folder exists, is writable and has space.", e);
		}
	}

	static void encode(OutputStream stream, RandomAccessibleInterval<FloatType> rgb, Map<String, String> text)
		throws IOException
	{
		int w = (int) rgb.dimension(0), h = (int) rgb.dimension(1);
		DataOutputStream out = new DataOutputStream(stream);
		out.write(SIGNATURE);

		ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
		DataOutputStream d = new DataOutputStream(ihdr);
		d.writeInt(w);
		d.writeInt(h);
		d.writeByte(8); // bit depth
		d.writeByte(2); // colour type: truecolour RGB
		d.writeByte(0); // deflate
		d.writeByte(0); // adaptive filtering
		d.writeByte(0); // no interlace
		chunk(out, "IHDR", ihdr.toByteArray());

		for (Map.Entry<String, String> e : text.entrySet()) textChunk(out, e.getKey(), e.getValue());

		ByteArrayOutputStream idat = new ByteArrayOutputStream();
		Deflater deflater = new Deflater(Deflater.BEST_SPEED);
		try (DeflaterOutputStream z = new DeflaterOutputStream(idat, deflater)) {
			RandomAccess<FloatType> ra = Views.zeroMin(rgb).randomAccess();
			byte[] row = new byte[1 + 3 * w]; // filter byte 0 (None) + RGB
			for (int y = 0; y < h; y++) {
				ra.setPosition(y, 1);
				for (int x = 0; x < w; x++) {
					ra.setPosition(x, 0);
					for (int c = 0; c < 3; c++) {
						ra.setPosition(c, 2);
						row[1 + 3 * x + c] = (byte) to8bit(ra.get().get());
					}
				}
				z.write(row);
			}
		}
		finally {
			deflater.end();
		}
		chunk(out, "IDAT", idat.toByteArray());
		chunk(out, "IEND", new byte[0]);
		out.flush();
	}

	/** [0, 1] → 0…255, rounded; NaN → 0. */
	public static int to8bit(float v) {
		if (!(v > 0f)) return 0;
		if (v >= 1f) return 255;
		return Math.round(v * 255f);
	}

	private static void textChunk(DataOutputStream out, String key, String value) throws IOException {
		byte[] k = key.getBytes(StandardCharsets.ISO_8859_1);
		if (k.length < 1 || k.length > 79 || !latin1(key)) throw new IllegalArgumentException("Bad PNG text key " + key);
		ByteArrayOutputStream b = new ByteArrayOutputStream();
		b.write(k);
		b.write(0);
		value = PngText.clean(value); // no raw control characters: PNG readers and validators reject them
		if (latin1(value)) {
			b.write(value.getBytes(StandardCharsets.ISO_8859_1));
			chunk(out, "tEXt", b.toByteArray());
		}
		else {
			b.write(0); // not compressed
			b.write(0); // compression method
			b.write(0); // empty language tag
			b.write(0); // empty translated keyword
			b.write(value.getBytes(StandardCharsets.UTF_8));
			chunk(out, "iTXt", b.toByteArray());
		}
	}

	static boolean latin1(String s) {
		for (int i = 0; i < s.length(); i++) {
			char c = s.charAt(i);
			if (c > 0xff || c == 0) return false;
		}
		return true;
	}

	private static void chunk(DataOutputStream out, String type, byte[] data) throws IOException {
		byte[] t = type.getBytes(StandardCharsets.US_ASCII);
		CRC32 crc = new CRC32();
		crc.update(t);
		crc.update(data);
		out.writeInt(data.length);
		out.write(t);
		out.write(data);
		out.writeInt((int) crc.getValue());
	}
}
