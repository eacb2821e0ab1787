package sc.fiji.sd.lora;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

/** Writes small safetensors and ONNX files for the tests (the formats written out, independently of the readers). */
final class TestFiles {

	private TestFiles() {}

	/** A tensor: shape and F32 values. */
	record T(long[] shape, float[] values) {
		static T of(float[] values, long... shape) { return new T(shape, values); }

		static T filled(float v, long... shape) {
			long n = 1;
			for (long d : shape) n *= d;
			float[] a = new float[(int) n];
			for (int i = 0; i < a.length; i++) a[i] = v * (1 + i % 3);
			return new T(shape, a);
		}
	}

	static void safetensors(Path file, Map<String, T> tensors) throws IOException {
		safetensors(file, tensors, false);
	}

	/** As {@link #safetensors(Path, Map)}, the values stored as F16 when {@code half}. */
	static void safetensors(Path file, Map<String, T> tensors, boolean half) throws IOException {
		JsonObject header = new JsonObject();
		ByteArrayOutputStream data = new ByteArrayOutputStream();
		for (Map.Entry<String, T> e : tensors.entrySet()) {
			JsonObject o = new JsonObject();
			o.addProperty("dtype", half ? "F16" : "F32");
			JsonArray shape = new JsonArray();
			for (long d : e.getValue().shape()) shape.add(d);
			o.add("shape", shape);
			JsonArray off = new JsonArray();
			off.add(data.size());
			ByteBuffer b = ByteBuffer.allocate(e.getValue().values().length * (half ? 2 : 4))
				.order(ByteOrder.LITTLE_ENDIAN);
			for (float v : e.getValue().values()) {
				if (half) b.putShort(sc.fiji.sd.onnx.Fp16.fromFloat(v));
				else b.putFloat(v);
			}
			data.write(b.array());
			off.add(data.size());
			o.add("data_offsets", off);
			header.add(e.getKey(), o);
		}
		byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
		out.write(h);
		out.write(data.toByteArray());
		Files.write(file, out.toByteArray());
	}

	static Map<String, T> map(Object... nameTensor) {
		Map<String, T> m = new LinkedHashMap<>();
		for (int i = 0; i < nameTensor.length; i += 2) m.put((String) nameTensor[i], (T) nameTensor[i + 1]);
		return m;
	}

	/**
	 * A minimal ONNX model: nodes {name, op, output, inputs…} and initializers in raw_data, FLOAT16 for names ending
	 * in {@code _fp16}, FLOAT otherwise.
	 */
	static void onnx(Path file, String[][] nodes, Map<String, T> initializers) throws IOException {
		ByteArrayOutputStream graph = new ByteArrayOutputStream();
		for (String[] n : nodes) {
			ByteArrayOutputStream node = new ByteArrayOutputStream();
			for (int i = 3; i < n.length; i++) field(node, 1, n[i].getBytes(StandardCharsets.UTF_8));
			field(node, 2, n[2].getBytes(StandardCharsets.UTF_8));
			field(node, 3, n[0].getBytes(StandardCharsets.UTF_8));
			field(node, 4, n[1].getBytes(StandardCharsets.UTF_8));
			field(graph, 1, node.toByteArray());
		}
		for (Map.Entry<String, T> e : initializers.entrySet()) {
			ByteArrayOutputStream t = new ByteArrayOutputStream();
			for (long d : e.getValue().shape()) {
				varint(t, 1 << 3);
				varint(t, d);
			}
			boolean half = e.getKey().endsWith("_fp16");
			varint(t, 2 << 3);
			varint(t, half ? 10 : 1);
			field(t, 8, e.getKey().getBytes(StandardCharsets.UTF_8));
			ByteBuffer b = ByteBuffer.allocate(e.getValue().values().length * (half ? 2 : 4))
				.order(ByteOrder.LITTLE_ENDIAN);
			for (float v : e.getValue().values()) {
				if (half) b.putShort(sc.fiji.sd.onnx.Fp16.fromFloat(v));
				else b.putFloat(v);
			}
			field(t, 9, b.array());
			field(graph, 5, t.toByteArray());
		}
		ByteArrayOutputStream model = new ByteArrayOutputStream();
		varint(model, 1 << 3); // ir_version
		varint(model, 8);
		field(model, 7, graph.toByteArray());
		Files.write(file, model.toByteArray());
	}

	private static void field(ByteArrayOutputStream out, int number, byte[] bytes) {
		varint(out, (long) number << 3 | 2);
		varint(out, bytes.length);
		out.writeBytes(bytes);
	}

	private static void varint(ByteArrayOutputStream out, long v) {
		while ((v & ~0x7fL) != 0) {
			out.write((int) (v & 0x7f) | 0x80);
			v >>>= 7;
		}
		out.write((int) v);
	}
}
