package sc.fiji.sd.provenance;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.InflaterInputStream;

/** Reads the text chunks (tEXt, zTXt, iTXt) of a PNG: the provenance written by {@link PngWriter} or by A1111. */
public final class PngReader {

	private PngReader() {}

	/** All text chunks, keyword → text, in file order. */
	public static Map<String, String> readText(Path file) throws IOException {
		Map<String, String> text = new LinkedHashMap<>();
		try (InputStream in = Files.newInputStream(file); DataInputStream d = new DataInputStream(in)) {
			byte[] sig = new byte[8];
			d.readFully(sig);
			if (sig[1] != 'P' || sig[2] != 'N' || sig[3] != 'G') throw new IOException(file + " is not a PNG file");
			while (true) {
				int length;
				try {
					length = d.readInt();
				}
				catch (EOFException e) {
					break;
				}
				byte[] type = new byte[4];
				d.readFully(type);
				byte[] data = new byte[length];
				d.readFully(data);
				d.readInt(); // CRC
				String t = new String(type, StandardCharsets.US_ASCII);
				if (t.equals("IEND")) break;
				int zero = indexOf(data, 0, 0);
				if (zero < 0) continue;
				String key = new String(data, 0, zero, StandardCharsets.ISO_8859_1);
				switch (t) {
					case "tEXt":
						text.put(key, new String(data, zero + 1, data.length - zero - 1, StandardCharsets.ISO_8859_1));
						break;
					case "zTXt":
						text.put(key, new String(inflate(data, zero + 2), StandardCharsets.ISO_8859_1));
						break;
					case "iTXt": {
						boolean compressed = data[zero + 1] != 0;
						int lang = indexOf(data, zero + 3, 0);
						int translated = indexOf(data, lang + 1, 0);
						int start = translated + 1;
						byte[] value = compressed ? inflate(data, start)
							: java.util.Arrays.copyOfRange(data, start, data.length);
						text.put(key, new String(value, StandardCharsets.UTF_8));
						break;
					}
					default:
						break;
				}
			}
		}
		return text;
	}

	private static int indexOf(byte[] data, int from, int value) {
		for (int i = from; i < data.length; i++) if (data[i] == value) return i;
		return -1;
	}

	private static byte[] inflate(byte[] data, int offset) throws IOException {
		try (InflaterInputStream z = new InflaterInputStream(new java.io.ByteArrayInputStream(data, offset,
			data.length - offset)))
		{
			ByteArrayOutputStream out = new ByteArrayOutputStream();
			z.transferTo(out);
			return out.toByteArray();
		}
	}
}
