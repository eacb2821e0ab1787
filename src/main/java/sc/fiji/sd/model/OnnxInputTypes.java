package sc.fiji.sd.model;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Reads one graph input's element type straight from an ONNX file's protobuf, without creating a session: listing
 * models must not load gigabytes of weights. Fields (onnx.proto): ModelProto.graph = 7; GraphProto.input = 11;
 * ValueInfoProto.name = 1, .type = 2; TypeProto.tensor_type = 1; Tensor.elem_type = 1. Everything else is skipped by
 * its length, so embedded weights are seeked over, not read.
 */
final class OnnxInputTypes {

	private OnnxInputTypes() {}

	/** "float32", "float16", "bfloat16", "float64", or empty when the input is not found or the file unreadable. */
	static Optional<String> elementType(Path onnx, String input) {
		try (RandomAccessFile f = new RandomAccessFile(onnx.toFile(), "r")) {
			long end = f.length();
			while (f.getFilePointer() < end) {
				long key = varint(f);
				if (key == (7 << 3 | 2)) { // graph
					long graphEnd = varint(f) + f.getFilePointer();
					while (f.getFilePointer() < graphEnd) {
						long gkey = varint(f);
						if (gkey == (11 << 3 | 2)) {
							byte[] valueInfo = new byte[(int) varint(f)];
							f.readFully(valueInfo);
							Optional<String> t = typeIfNamed(valueInfo, input);
							if (t.isPresent()) return t;
						}
						else skip(f, gkey);
					}
					return Optional.empty();
				}
				skip(f, key);
			}
		}
		catch (IOException | RuntimeException e) {
			// unreadable or not ONNX: the type is unknown
		}
		return Optional.empty();
	}

	private static Optional<String> typeIfNamed(byte[] valueInfo, String input) throws IOException {
		Msg m = new Msg(valueInfo);
		String name = null;
		byte[] type = null;
		while (m.more()) {
			long key = m.varint();
			if (key == (1 << 3 | 2)) name = new String(m.bytes(), java.nio.charset.StandardCharsets.UTF_8);
			else if (key == (2 << 3 | 2)) type = m.bytes();
			else m.skip(key);
		}
		if (!input.equals(name) || type == null) return Optional.empty();
		Msg t = new Msg(type);
		while (t.more()) {
			long key = t.varint();
			if (key == (1 << 3 | 2)) {
				Msg tensor = new Msg(t.bytes());
				while (tensor.more()) {
					long k = tensor.varint();
					if (k == (1 << 3)) return Optional.of(name((int) tensor.varint()));
					tensor.skip(k);
				}
			}
			else t.skip(key);
		}
		return Optional.empty();
	}

	private static String name(int elemType) {
		return switch (elemType) {
			case 1 -> "float32";
			case 10 -> "float16";
			case 11 -> "float64";
			case 16 -> "bfloat16";
			default -> "type " + elemType;
		};
	}

	private static long varint(RandomAccessFile f) throws IOException {
		long v = 0;
		for (int shift = 0; shift < 64; shift += 7) {
			int b = f.readUnsignedByte();
			v |= (long) (b & 0x7f) << shift;
			if ((b & 0x80) == 0) return v;
		}
		throw new IOException("bad varint");
	}

	private static void skip(RandomAccessFile f, long key) throws IOException {
		switch ((int) (key & 7)) {
			case 0 -> varint(f);
			case 1 -> f.seek(f.getFilePointer() + 8);
			case 2 -> {
				long length = varint(f); // read before the position: the length's own bytes come first
				f.seek(f.getFilePointer() + length);
			}
			case 5 -> f.seek(f.getFilePointer() + 4);
			default -> throw new IOException("unsupported wire type " + (key & 7));
		}
	}

	/** A protobuf message in memory. */
	private static final class Msg {
		private final ByteArrayInputStream in;

		Msg(byte[] b) { in = new ByteArrayInputStream(b); }

		boolean more() { return in.available() > 0; }

		long varint() throws IOException {
			long v = 0;
			for (int shift = 0; shift < 64; shift += 7) {
				int b = in.read();
				if (b < 0) throw new IOException("truncated");
				v |= (long) (b & 0x7f) << shift;
				if ((b & 0x80) == 0) return v;
			}
			throw new IOException("bad varint");
		}

		byte[] bytes() throws IOException {
			int n = (int) varint();
			byte[] b = in.readNBytes(n);
			if (b.length != n) throw new IOException("truncated");
			return b;
		}

		void skip(long key) throws IOException {
			switch ((int) (key & 7)) {
				case 0 -> varint();
				case 1 -> in.skipNBytes(8);
				case 2 -> in.skipNBytes(varint());
				case 5 -> in.skipNBytes(4);
				default -> throw new IOException("unsupported wire type " + (key & 7));
			}
		}
	}
}
