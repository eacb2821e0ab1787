package sc.fiji.sd.onnx;

import java.io.EOFException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import sc.fiji.sd.StableDiffusionException;

/**
 * The nodes and initializers of an ONNX file's main graph, read straight from its protobuf without ONNX Runtime and
 * without reading the weights: an initializer is recorded with where its bytes are (in the file, or in an external
 * data file), and {@link #floats} reads one when asked. Fields (onnx.proto): ModelProto.graph = 7;
 * GraphProto.node = 1, .initializer = 5; NodeProto.input = 1, .output = 2, .name = 3, .op_type = 4, .attribute = 5;
 * AttributeProto.name = 1, .i = 3, .ints = 8; TensorProto.dims = 1, .data_type = 2, .float_data = 4, .int32_data = 5,
 * .name = 8, .raw_data = 9, .external_data = 13 (key 1, value 2), .data_location = 14.
 */
public final class OnnxGraph {

	/** TensorProto.DataType values used here. */
	public static final int FLOAT = 1, FLOAT16 = 10, BFLOAT16 = 16;

	/** A node: its name, operator, inputs, outputs, integer attributes and integer-list attributes. */
	public record Node(String name, String opType, List<String> inputs, List<String> outputs, Map<String, Long> ints,
		Map<String, long[]> intLists)
	{
		public long attribute(String name, long otherwise) {
			return ints.getOrDefault(name, otherwise);
		}
	}

	/** Where an initializer's values are. */
	public enum Storage { RAW, FLOAT_DATA, INT32_DATA, EXTERNAL }

	/**
	 * An initializer: name, shape and element type, and the byte range of its values in {@code file} (the model file,
	 * or the external data file for {@link Storage#EXTERNAL}).
	 */
	public record Initializer(String name, long[] dims, int dataType, Storage storage, Path file, long offset,
		long length)
	{
		public long elements() {
			long n = 1;
			for (long d : dims) n *= d;
			return n;
		}

		public boolean external() { return storage == Storage.EXTERNAL; }
	}

	private final Path file;
	private final List<Node> nodes;
	private final Map<String, Initializer> initializers;

	private OnnxGraph(Path file, List<Node> nodes, Map<String, Initializer> initializers) {
		this.file = file;
		this.nodes = nodes;
		this.initializers = initializers;
	}

	public Path file() { return file; }
	public List<Node> nodes() { return nodes; }
	public Map<String, Initializer> initializers() { return initializers; }

	/** Reads the graph's structure of {@code onnx}; the weights are seeked over. */
	public static OnnxGraph read(Path onnx) {
		try (Reader r = new Reader(onnx)) {
			List<Node> nodes = new ArrayList<>();
			Map<String, Initializer> inits = new LinkedHashMap<>();
			while (!r.atEnd()) {
				long tag = r.varint();
				if (tag == (7 << 3 | 2)) {
					long end = r.end();
					while (r.position() < end) {
						long g = r.varint();
						if (g == (1 << 3 | 2)) nodes.add(node(r, r.end()));
						else if (g == (5 << 3 | 2)) {
							Initializer i = initializer(r, r.end(), onnx);
							inits.put(i.name(), i);
						}
						else r.skip(g);
					}
				}
				else r.skip(tag);
			}
			return new OnnxGraph(onnx, Collections.unmodifiableList(nodes), Collections.unmodifiableMap(inits));
		}
		catch (IOException | RuntimeException e) {
			throw new StableDiffusionException("Cannot read the graph of " + onnx + ": " + e.getMessage()
				+ ". The file may be damaged or not an ONNX model.", e);
		}
	}

	private static Node node(Reader r, long end) throws IOException {
		String name = "", op = "";
		List<String> inputs = new ArrayList<>(), outputs = new ArrayList<>();
		Map<String, Long> ints = new LinkedHashMap<>();
		Map<String, long[]> intLists = new LinkedHashMap<>();
		while (r.position() < end) {
			long tag = r.varint();
			if (tag == (1 << 3 | 2)) inputs.add(r.string());
			else if (tag == (2 << 3 | 2)) outputs.add(r.string());
			else if (tag == (3 << 3 | 2)) name = r.string();
			else if (tag == (4 << 3 | 2)) op = r.string();
			else if (tag == (5 << 3 | 2)) {
				long aEnd = r.end();
				String an = null;
				Long value = null;
				List<Long> list = new ArrayList<>();
				while (r.position() < aEnd) {
					long a = r.varint();
					if (a == (1 << 3 | 2)) an = r.string();
					else if (a == (3 << 3)) value = r.varint();
					else if (a == (8 << 3)) list.add(r.varint()); // repeated int64, unpacked (proto2)
					else if (a == (8 << 3 | 2)) { // packed
						long stop = r.end();
						while (r.position() < stop) list.add(r.varint());
					}
					else r.skip(a);
				}
				if (an != null && value != null) ints.put(an, value);
				if (an != null && !list.isEmpty()) intLists.put(an, list.stream().mapToLong(Long::longValue).toArray());
			}
			else r.skip(tag);
		}
		return new Node(name, op, List.copyOf(inputs), List.copyOf(outputs), Map.copyOf(ints), Map.copyOf(intLists));
	}

	private static Initializer initializer(Reader r, long end, Path onnx) throws IOException {
		List<Long> dims = new ArrayList<>();
		int type = 0;
		String name = "";
		Storage storage = null;
		long offset = 0, length = 0;
		String location = null;
		long extOffset = 0, extLength = -1;
		while (r.position() < end) {
			long tag = r.varint();
			int field = (int) (tag >>> 3);
			if (tag == (1 << 3)) dims.add(r.varint());
			else if (tag == (1 << 3 | 2)) {
				long stop = r.end();
				while (r.position() < stop) dims.add(r.varint());
			}
			else if (tag == (2 << 3)) type = (int) r.varint();
			else if (tag == (8 << 3 | 2)) name = r.string();
			else if ((field == 9 || field == 4 || field == 5) && (tag & 7) == 2) {
				length = r.length();
				offset = r.position();
				storage = field == 9 ? Storage.RAW : field == 4 ? Storage.FLOAT_DATA : Storage.INT32_DATA;
				r.seek(offset + length);
			}
			else if (tag == (13 << 3 | 2)) {
				long eEnd = r.end();
				String key = null, value = null;
				while (r.position() < eEnd) {
					long e = r.varint();
					if (e == (1 << 3 | 2)) key = r.string();
					else if (e == (2 << 3 | 2)) value = r.string();
					else r.skip(e);
				}
				if ("location".equals(key)) location = value;
				else if ("offset".equals(key)) extOffset = Long.parseLong(value);
				else if ("length".equals(key)) extLength = Long.parseLong(value);
			}
			else r.skip(tag);
		}
		long[] d = dims.stream().mapToLong(Long::longValue).toArray();
		if (location != null) {
			Path data = onnx.toAbsolutePath().getParent().resolve(location).normalize();
			return new Initializer(name, d, type, Storage.EXTERNAL, data, extOffset, extLength);
		}
		return new Initializer(name, d, type, storage == null ? Storage.RAW : storage, onnx, offset, length);
	}

	/** The initializer's values as floats (FLOAT, FLOAT16 and BFLOAT16 initializers). */
	public static float[] floats(Initializer init) {
		FloatBuffer b = read(init);
		float[] out = new float[b.capacity()];
		b.get(0, out);
		return out;
	}

	/**
	 * The initializer's values in a direct native-order float buffer: an fp32 initializer's raw bytes are read
	 * straight into it, so patching a weight needs no copy besides the weight itself.
	 */
	public static FloatBuffer read(Initializer init) {
		if (init.dataType() == FLOAT && init.storage() != Storage.INT32_DATA) return bytes(init).asFloatBuffer();
		float[] values = decode(init);
		FloatBuffer out = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
		out.put(values).rewind();
		return out;
	}

	/**
	 * The initializer's values in their own element type (FLOAT, FLOAT16, BFLOAT16) in a direct native-order buffer,
	 * read straight from the file into it: a weight patched in place and handed to ONNX Runtime is the only copy.
	 */
	public static ByteBuffer bytes(Initializer init) {
		int width = switch (init.dataType()) {
			case FLOAT -> 4;
			case FLOAT16, BFLOAT16 -> 2;
			default -> throw new StableDiffusionException("Initializer " + init.name() + " has element type "
				+ init.dataType() + ", not a float type; it cannot be patched.");
		};
		long n = init.elements();
		if (n > Integer.MAX_VALUE / 4) throw new StableDiffusionException("Initializer " + init.name() + " is too large.");
		if (init.storage() == Storage.INT32_DATA) { // fp16 bits as varints: decoded, then stored as 16 bits again
			float[] values = decode(init);
			ByteBuffer out = ByteBuffer.allocateDirect(values.length * 2).order(ByteOrder.nativeOrder());
			for (float v : values) out.putShort(init.dataType() == BFLOAT16 ? (short) (Float.floatToRawIntBits(v) >>> 16)
				: Fp16.fromFloat(v)); // exact: the values came from 16 bits
			return out.rewind();
		}
		if (init.length() >= 0 && init.length() != n * width) {
			throw new StableDiffusionException("Initializer " + init.name() + " holds " + init.length()
				+ " bytes for " + n + " values; the file is damaged.");
		}
		ByteBuffer b = ByteBuffer.allocateDirect((int) n * width).order(ByteOrder.LITTLE_ENDIAN);
		try (FileChannel ch = FileChannel.open(init.file())) {
			if (init.offset() + n * width > ch.size()) throw new EOFException(init.file() + " ends before the values of " + init.name());
			while (b.hasRemaining()) {
				if (ch.read(b, init.offset() + b.position()) < 0) throw new EOFException("truncated " + init.file());
			}
		}
		catch (IOException e) {
			throw new StableDiffusionException("Cannot read initializer " + init.name() + " from " + init.file()
				+ ": " + e.getMessage(), e);
		}
		b.rewind();
		if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) return b;
		ByteBuffer nat = ByteBuffer.allocateDirect((int) n * width).order(ByteOrder.nativeOrder());
		if (width == 4) nat.asFloatBuffer().put(b.asFloatBuffer());
		else nat.asShortBuffer().put(b.asShortBuffer());
		return nat;
	}

	private static float[] decode(Initializer init) {
		long n = init.elements();
		if (n > Integer.MAX_VALUE / 4) throw new StableDiffusionException("Initializer " + init.name() + " is too large.");
		int width = switch (init.dataType()) {
			case FLOAT -> 4;
			case FLOAT16, BFLOAT16 -> 2;
			default -> throw new StableDiffusionException("Initializer " + init.name() + " has element type "
				+ init.dataType() + ", not a float type; it cannot be patched.");
		};
		long length = init.length() >= 0 ? init.length() : n * width;
		byte[] bytes = new byte[(int) length];
		try (RandomAccessFile f = new RandomAccessFile(init.file().toFile(), "r")) {
			if (init.offset() + length > f.length()) {
				throw new EOFException(init.file() + " ends before the values of " + init.name());
			}
			f.seek(init.offset());
			f.readFully(bytes);
		}
		catch (IOException e) {
			throw new StableDiffusionException("Cannot read initializer " + init.name() + " from " + init.file() + ": "
				+ e.getMessage(), e);
		}
		float[] out = new float[(int) n];
		ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
		if (init.storage() == Storage.INT32_DATA) { // fp16 bits as varints, one per element
			int k = 0;
			int p = 0;
			while (k < out.length && p < bytes.length) {
				long v = 0;
				for (int shift = 0;; shift += 7) {
					int x = bytes[p++] & 0xff;
					v |= (long) (x & 0x7f) << shift;
					if ((x & 0x80) == 0) break;
				}
				out[k++] = half(init.dataType(), (short) v);
			}
			return out;
		}
		if (bytes.length != n * width) {
			throw new StableDiffusionException("Initializer " + init.name() + " holds " + bytes.length
				+ " bytes for " + n + " values; the file is damaged.");
		}
		if (width == 4) b.asFloatBuffer().get(out);
		else for (int i = 0; i < out.length; i++) out[i] = half(init.dataType(), b.getShort());
		return out;
	}

	private static float half(int type, short bits) {
		return type == BFLOAT16 ? Float.intBitsToFloat((bits & 0xffff) << 16) : Fp16.toFloat(bits);
	}

	/** Protobuf wire format over a file, with its own buffer so seeking over weights costs nothing. */
	private static final class Reader implements AutoCloseable {
		private final RandomAccessFile f;
		private final long size;
		private final byte[] buf = new byte[1 << 16];
		private long bufStart;
		private int bufLen;
		private long pos;

		Reader(Path file) throws IOException {
			f = new RandomAccessFile(file.toFile(), "r");
			size = f.length();
		}

		long position() { return pos; }

		boolean atEnd() { return pos >= size; }

		void seek(long p) throws IOException {
			if (p > size) throw new EOFException("truncated file");
			pos = p;
		}

		int read() throws IOException {
			if (pos < bufStart || pos >= bufStart + bufLen) {
				if (pos >= size) throw new EOFException("truncated file");
				f.seek(pos);
				bufStart = pos;
				bufLen = f.read(buf, 0, (int) Math.min(buf.length, size - pos));
			}
			return buf[(int) (pos++ - bufStart)] & 0xff;
		}

		long varint() throws IOException {
			long v = 0;
			for (int shift = 0; shift < 64; shift += 7) {
				int b = read();
				v |= (long) (b & 0x7f) << shift;
				if ((b & 0x80) == 0) return v;
			}
			throw new IOException("bad varint");
		}

		long length() throws IOException {
			long n = varint();
			if (n < 0 || pos + n > size) throw new EOFException("truncated file");
			return n;
		}

		/** Reads a length and returns where the field ends. */
		long end() throws IOException {
			long n = length();
			return pos + n;
		}

		String string() throws IOException {
			int n = (int) length();
			byte[] b = new byte[n];
			for (int i = 0; i < n; i++) b[i] = (byte) read();
			return new String(b, StandardCharsets.UTF_8);
		}

		void skip(long tag) throws IOException {
			switch ((int) (tag & 7)) {
				case 0 -> varint();
				case 1 -> seek(pos + 8);
				case 2 -> {
					long n = length(); // read before the position: the length's own bytes come first
					seek(pos + n);
				}
				case 5 -> seek(pos + 4);
				default -> throw new IOException("unsupported wire type " + (tag & 7));
			}
		}

		@Override
		public void close() throws IOException {
			f.close();
		}
	}
}
