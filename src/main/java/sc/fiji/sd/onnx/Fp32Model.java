package sc.fiji.sd.onnx;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import sc.fiji.sd.StableDiffusionException;

/**
 * An fp16 ONNX model rewritten to compute in fp32: every fp16 tensor type becomes fp32 (inputs, outputs, value
 * infos, initializers and constants, whose values are widened exactly), and every {@code Cast} to fp16 a cast to
 * fp32. Why: SDXL's fp16 VAE decoder overflows to infinity and NaN at 1024×1024 (diffusers upcasts it to fp32,
 * {@code force_upcast}); the same graph in fp32 decodes the same latents. External weights are read in and written
 * inline, so the result is one self-contained model (a VAE decoder is 50–100 M parameters, well under protobuf's
 * 2 GB).
 * <p>
 * Protobuf fields read (onnx.proto): ModelProto.graph = 7; GraphProto.node = 1, .initializer = 5, .input = 11,
 * .output = 12, .value_info = 13; NodeProto.op_type = 4, .attribute = 5; AttributeProto.name = 1, .i = 3, .t = 5,
 * .g = 6, .tensors = 10, .graphs = 11; TensorProto.dims = 1, .data_type = 2, .int32_data = 5, .raw_data = 9,
 * .external_data = 13 (key 1, value 2), .data_location = 14; ValueInfoProto.type = 2; TypeProto.tensor_type = 1;
 * TypeProto.Tensor.elem_type = 1. Everything else is copied as it is.
 */
public final class Fp32Model {

	private static final int FLOAT = OnnxGraph.FLOAT, FLOAT16 = OnnxGraph.FLOAT16;

	private enum Kind { MODEL, GRAPH, NODE, ATTRIBUTE, TENSOR, VALUE_INFO, TYPE, TENSOR_TYPE }

	private final Path folder;
	/** Only looking for fp16: external weights are not read. */
	private final boolean scan;
	/** Whether an fp16 type was met. */
	private boolean fp16;

	private Fp32Model(Path folder, boolean scan) {
		this.folder = folder;
		this.scan = scan;
	}

	/**
	 * Whether the model has fp16 anywhere (weights, constants, inputs, outputs, casts), so that {@link #write} changes
	 * what it computes. Reads the model file (not its external weights) into memory: meant for VAE-sized models.
	 */
	public static boolean hasFp16(Path model) {
		Fp32Model m = new Fp32Model(model.toAbsolutePath().getParent(), true);
		m.rewrite(model);
		return m.fp16;
	}

	/** Writes {@code model} rewritten in fp32 to {@code target} (weights inline). */
	public static void write(Path model, Path target) {
		try {
			Files.write(target, new Fp32Model(model.toAbsolutePath().getParent(), false).rewrite(model));
		}
		catch (IOException e) {
			throw new StableDiffusionException("Cannot write " + target + ": " + e.getMessage(), e);
		}
	}

	private byte[] rewrite(Path model) {
		try {
			byte[] in = Files.readAllBytes(model);
			return message(in, 0, in.length, Kind.MODEL, null);
		}
		catch (IOException | RuntimeException e) {
			if (e instanceof StableDiffusionException s) throw s;
			throw new StableDiffusionException("Cannot convert " + model + " to fp32: " + e.getMessage()
				+ ". Use an fp32 export of the model instead.", e);
		}
	}

	/** The message {@code b[from, to)} of the given kind, rewritten; {@code node}: the operator of the node it is in. */
	private byte[] message(byte[] b, int from, int to, Kind kind, String node) throws IOException {
		if (kind == Kind.TENSOR) return tensor(b, from, to);
		ByteArrayOutputStream out = new ByteArrayOutputStream(to - from);
		String op = kind == Kind.NODE ? stringField(b, from, to, 4) : node;
		String attribute = kind == Kind.ATTRIBUTE ? stringField(b, from, to, 1) : null;
		int[] p = { from };
		while (p[0] < to) {
			int start = p[0];
			long tag = varint(b, p);
			int field = (int) (tag >>> 3), wire = (int) (tag & 7);
			Kind inner = wire == 2 ? inner(kind, field) : null;
			if (inner != null) {
				int length = (int) varint(b, p);
				byte[] rewritten = message(b, p[0], p[0] + length, inner, kind == Kind.NODE ? op : null);
				p[0] += length;
				writeVarint(out, tag);
				writeVarint(out, rewritten.length);
				out.write(rewritten);
				continue;
			}
			boolean fp16Type = wire == 0 && (kind == Kind.TENSOR_TYPE && field == 1
				|| kind == Kind.ATTRIBUTE && field == 3 && "to".equals(attribute) && "Cast".equals(op));
			if (fp16Type) {
				long value = varint(b, p);
				writeVarint(out, tag);
				writeVarint(out, value == FLOAT16 ? FLOAT : value);
				fp16 |= value == FLOAT16;
				continue;
			}
			skip(b, p, wire);
			out.write(b, start, p[0] - start);
		}
		return out.toByteArray();
	}

	/** The kind of a length-delimited field that holds a message to rewrite, or null to copy it. */
	private static Kind inner(Kind kind, int field) {
		switch (kind) {
			case MODEL: return field == 7 ? Kind.GRAPH : null;
			case GRAPH:
				if (field == 1) return Kind.NODE;
				if (field == 5) return Kind.TENSOR;
				return field == 11 || field == 12 || field == 13 ? Kind.VALUE_INFO : null;
			case NODE: return field == 5 ? Kind.ATTRIBUTE : null;
			case ATTRIBUTE:
				if (field == 5 || field == 10) return Kind.TENSOR;
				return field == 6 || field == 11 ? Kind.GRAPH : null;
			case VALUE_INFO: return field == 2 ? Kind.TYPE : null;
			case TYPE: return field == 1 ? Kind.TENSOR_TYPE : null;
			default: return null;
		}
	}

	/**
	 * A TensorProto: fp16 values widened to fp32 raw data; values in an external file brought inline (the rewritten
	 * model is written elsewhere); anything else copied.
	 */
	private byte[] tensor(byte[] b, int from, int to) throws IOException {
		ByteArrayOutputStream kept = new ByteArrayOutputStream();
		int type = 0;
		long elements = 1;
		byte[] raw = null;
		List<Long> ints = new ArrayList<>(); // int32_data (fp16 tensors keep their bit patterns there)
		String location = null;
		long offset = 0, length = -1;
		int[] p = { from };
		while (p[0] < to) {
			int start = p[0];
			long tag = varint(b, p);
			int field = (int) (tag >>> 3), wire = (int) (tag & 7);
			if (field == 2 && wire == 0) type = (int) varint(b, p);
			else if (field == 9 && wire == 2) {
				int n = (int) varint(b, p);
				raw = Arrays.copyOfRange(b, p[0], p[0] + n);
				p[0] += n;
			}
			else if (field == 5 && wire == 2) { // packed int32_data
				int end = (int) varint(b, p) + p[0];
				while (p[0] < end) ints.add(varint(b, p));
			}
			else if (field == 5 && wire == 0) ints.add(varint(b, p));
			else if (field == 13 && wire == 2) {
				int end = (int) varint(b, p) + p[0];
				String key = null, value = null;
				while (p[0] < end) {
					long t = varint(b, p);
					if (t == (1 << 3 | 2)) key = string(b, p);
					else if (t == (2 << 3 | 2)) value = string(b, p);
					else skip(b, p, (int) (t & 7));
				}
				if ("location".equals(key)) location = value;
				else if ("offset".equals(key)) offset = Long.parseLong(value);
				else if ("length".equals(key)) length = Long.parseLong(value);
			}
			else if (field == 14 && wire == 0) varint(b, p); // data_location: the data is inline from here on
			else {
				if (field == 1 && wire == 0) elements *= varint(b, p);
				else if (field == 1 && wire == 2) {
					int end = (int) varint(b, p) + p[0];
					while (p[0] < end) elements *= varint(b, p);
				}
				else skip(b, p, wire);
				kept.write(b, start, p[0] - start);
			}
		}
		fp16 |= type == FLOAT16;
		if (scan) return new byte[0];
		if (location != null) raw = external(location, offset, length >= 0 ? length : elements * elementSize(type));
		if (type == FLOAT16) {
			raw = widen(raw != null ? raw : halves(ints));
			type = FLOAT;
			ints.clear();
		}
		ByteArrayOutputStream out = kept;
		writeVarint(out, 2 << 3);
		writeVarint(out, type);
		if (!ints.isEmpty()) { // another type in int32_data (int32, bool, int8, …): as it was, packed
			ByteArrayOutputStream packed = new ByteArrayOutputStream();
			for (long v : ints) writeVarint(packed, v);
			writeVarint(out, 5 << 3 | 2);
			writeVarint(out, packed.size());
			out.write(packed.toByteArray());
		}
		if (raw != null) {
			writeVarint(out, 9 << 3 | 2);
			writeVarint(out, raw.length);
			out.write(raw);
		}
		return out.toByteArray();
	}

	/** fp16 values (little endian) as fp32 values (little endian): exact. */
	private static byte[] widen(byte[] halves) {
		if (halves.length % 2 != 0) throw new StableDiffusionException("An fp16 tensor has an odd number of bytes.");
		ByteBuffer in = ByteBuffer.wrap(halves).order(ByteOrder.LITTLE_ENDIAN);
		ByteBuffer out = ByteBuffer.allocate(halves.length * 2).order(ByteOrder.LITTLE_ENDIAN);
		while (in.hasRemaining()) out.putFloat(Fp16.toFloat(in.getShort()));
		return out.array();
	}

	/** fp16 bit patterns from int32_data as little-endian bytes. */
	private static byte[] halves(List<Long> bits) {
		ByteBuffer out = ByteBuffer.allocate(bits.size() * 2).order(ByteOrder.LITTLE_ENDIAN);
		for (long v : bits) out.putShort((short) v);
		return out.array();
	}

	private byte[] external(String location, long offset, long length) throws IOException {
		Path file = folder.resolve(location).normalize();
		if (length > Integer.MAX_VALUE / 2) throw new StableDiffusionException("An initializer of " + file
			+ " is too large to convert to fp32 in memory.");
		byte[] bytes = new byte[(int) length];
		try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
			f.seek(offset);
			f.readFully(bytes);
		}
		return bytes;
	}

	private static long elementSize(int type) {
		switch (type) {
			case 1: case 6: case 12: return 4; // float, int32, uint32
			case 7: case 11: case 13: return 8; // int64, double, uint64
			case 10: case 16: case 4: case 5: return 2; // float16, bfloat16, uint16, int16
			default: return 1;
		}
	}

	/** The first string field {@code field} of the message {@code b[from, to)}, or null. */
	private static String stringField(byte[] b, int from, int to, int field) throws IOException {
		int[] p = { from };
		while (p[0] < to) {
			long tag = varint(b, p);
			if (tag == ((long) field << 3 | 2)) return string(b, p);
			skip(b, p, (int) (tag & 7));
		}
		return null;
	}

	private static String string(byte[] b, int[] p) throws IOException {
		int n = (int) varint(b, p);
		String s = new String(b, p[0], n, StandardCharsets.UTF_8);
		p[0] += n;
		return s;
	}

	private static long varint(byte[] b, int[] p) throws IOException {
		long v = 0;
		for (int shift = 0; shift < 64; shift += 7) {
			if (p[0] >= b.length) throw new IOException("truncated model");
			int x = b[p[0]++] & 0xff;
			v |= (long) (x & 0x7f) << shift;
			if ((x & 0x80) == 0) return v;
		}
		throw new IOException("bad varint");
	}

	private static void skip(byte[] b, int[] p, int wire) throws IOException {
		switch (wire) {
			case 0 -> varint(b, p);
			case 1 -> p[0] += 8;
			case 2 -> {
				int n = (int) varint(b, p);
				p[0] += n;
			}
			case 5 -> p[0] += 4;
			default -> throw new IOException("unsupported wire type " + wire);
		}
		if (p[0] > b.length) throw new IOException("truncated model");
	}

	private static void writeVarint(ByteArrayOutputStream out, long v) {
		while ((v & ~0x7fL) != 0) {
			out.write((int) (v & 0x7f) | 0x80);
			v >>>= 7;
		}
		out.write((int) v);
	}
}
