package sc.fiji.sd.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;

/**
 * Creates input tensors of the element type a session declares, and reads outputs back as floats.
 * <p>
 * Models differ: fp32 or fp16 weights, {@code input_ids} int32 or int64, {@code timestep} float32, float16 or int64 with
 * shape [B] or scalar []. Callers hold float or int values; these helpers convert to what the model asked for.
 */
public final class Tensors {

	private Tensors() {}

	/** A tensor of the given floats, converted to {@code type} (FLOAT, FLOAT16, DOUBLE, INT32 or INT64). */
	public static OnnxTensor create(OnnxJavaType type, float[] values, long[] shape) throws OrtException {
		checkCount(values.length, shape);
		var env = OnnxEnvironment.get();
		switch (type) {
			case FLOAT:
				return OnnxTensor.createTensor(env, FloatBuffer.wrap(values), shape);
			case FLOAT16: {
				ShortBuffer b = ShortBuffer.allocate(values.length);
				for (float v : values) b.put(Fp16.fromFloat(v));
				return OnnxTensor.createTensor(env, b.flip(), shape, OnnxJavaType.FLOAT16);
			}
			case DOUBLE: {
				var b = java.nio.DoubleBuffer.allocate(values.length);
				for (float v : values) b.put(v);
				return OnnxTensor.createTensor(env, b.flip(), shape);
			}
			case INT32: {
				IntBuffer b = IntBuffer.allocate(values.length);
				for (float v : values) b.put(Math.round(v));
				return OnnxTensor.createTensor(env, b.flip(), shape);
			}
			case INT64: {
				LongBuffer b = LongBuffer.allocate(values.length);
				for (float v : values) b.put(Math.round((double) v));
				return OnnxTensor.createTensor(env, b.flip(), shape);
			}
			default:
				throw new IllegalArgumentException("Unsupported tensor element type " + type);
		}
	}

	/** An integer tensor (token ids) of type INT32 or INT64. */
	public static OnnxTensor createIds(OnnxJavaType type, int[] ids, long[] shape) throws OrtException {
		checkCount(ids.length, shape);
		var env = OnnxEnvironment.get();
		if (type == OnnxJavaType.INT64) {
			LongBuffer b = LongBuffer.allocate(ids.length);
			for (int v : ids) b.put(v);
			return OnnxTensor.createTensor(env, b.flip(), shape);
		}
		if (type == OnnxJavaType.INT32) return OnnxTensor.createTensor(env, IntBuffer.wrap(ids), shape);
		throw new IllegalArgumentException("Token ids must be int32 or int64, the model declares " + type);
	}

	/** The values of a FLOAT, FLOAT16 or DOUBLE output, as floats. */
	public static float[] toFloats(OnnxValue value) {
		OnnxTensor t = (OnnxTensor) value;
		OnnxJavaType type = t.getInfo().type;
		switch (type) {
			case FLOAT: {
				FloatBuffer b = t.getFloatBuffer();
				float[] out = new float[b.remaining()];
				b.get(out);
				return out;
			}
			case FLOAT16: {
				ShortBuffer b = t.getShortBuffer();
				float[] out = new float[b.remaining()];
				for (int i = 0; i < out.length; i++) out[i] = Fp16.toFloat(b.get(i));
				return out;
			}
			case DOUBLE: {
				var b = t.getDoubleBuffer();
				float[] out = new float[b.remaining()];
				for (int i = 0; i < out.length; i++) out[i] = (float) b.get(i);
				return out;
			}
			default:
				throw new IllegalArgumentException("Expected a floating point output, got " + type);
		}
	}

	/** The element type a session declares for one of its inputs or outputs. */
	public static OnnxJavaType elementType(NodeInfo info) {
		return ((TensorInfo) info.getInfo()).type;
	}

	/** The declared shape (−1 for dynamic axes). */
	public static long[] shape(NodeInfo info) {
		return ((TensorInfo) info.getInfo()).getShape();
	}

	static void checkCount(int count, long[] shape) {
		long n = 1;
		for (long d : shape) n *= d;
		if (n != count) throw new IllegalArgumentException(count + " values do not fill shape " + Arrays.toString(shape));
	}

	/**
	 * A tensor backed by one direct buffer that lives as long as the tensor: ONNX Runtime reads inputs from (and
	 * writes pinned outputs into) the buffer without copying, so a denoising loop refills the same memory every step
	 * instead of allocating. Use as an input ({@link #put}) or as a pinned output ({@link #get}).
	 */
	public static final class Reusable implements AutoCloseable {
		private final OnnxJavaType type;
		private final long[] shape;
		private final int count;
		private final ByteBuffer bytes;
		private final OnnxTensor tensor;

		public Reusable(OnnxJavaType type, long[] shape) throws OrtException {
			this.type = type;
			this.shape = shape.clone();
			long n = 1;
			for (long d : shape) n *= d;
			this.count = Math.toIntExact(n);
			var env = OnnxEnvironment.get();
			switch (type) {
				case FLOAT:
					bytes = ByteBuffer.allocateDirect(count * 4).order(ByteOrder.nativeOrder());
					tensor = OnnxTensor.createTensor(env, bytes.asFloatBuffer(), shape);
					break;
				case FLOAT16:
					bytes = ByteBuffer.allocateDirect(count * 2).order(ByteOrder.nativeOrder());
					tensor = OnnxTensor.createTensor(env, bytes.asShortBuffer(), shape, OnnxJavaType.FLOAT16);
					break;
				default:
					throw new IllegalArgumentException("Reusable tensors are FLOAT or FLOAT16, not " + type);
			}
		}

		public OnnxTensor tensor() { return tensor; }
		public long[] shape() { return shape.clone(); }
		public int count() { return count; }

		/** Copies {@code length} values from {@code src[srcOffset…]} to element {@code at} of the tensor. */
		public void put(int at, float[] src, int srcOffset, int length) {
			if (type == OnnxJavaType.FLOAT) {
				FloatBuffer f = bytes.asFloatBuffer();
				f.position(at);
				f.put(src, srcOffset, length);
			}
			else {
				for (int i = 0; i < length; i++) bytes.putShort((at + i) * 2, Fp16.fromFloat(src[srcOffset + i]));
			}
		}

		/** Copies all values of the tensor into {@code dst} (length ≥ {@link #count()}). */
		public void get(float[] dst) {
			get(dst, 0);
		}

		/** Copies all values of the tensor into {@code dst[offset…offset + count)}. */
		public void get(float[] dst, int offset) {
			if (type == OnnxJavaType.FLOAT) {
				bytes.asFloatBuffer().get(dst, offset, count);
			}
			else {
				for (int i = 0; i < count; i++) dst[offset + i] = Fp16.toFloat(bytes.getShort(i * 2));
			}
		}

		@Override
		public void close() {
			tensor.close();
		}
	}
}
