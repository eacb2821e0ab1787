package sc.fiji.sd.bench;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import sc.fiji.sd.model.OnnxComponent;
import sc.fiji.sd.onnx.OnnxEnvironment;

/**
 * One session call of a generation, copied so it can be replayed without the pipeline: the component, every input's
 * element type, shape and bytes, and the element type and shape of each output it produced.
 */
final class RecordedCall {

	/** Element type, shape and (for inputs) the raw native-order bytes of one tensor. */
	record TensorCopy(OnnxJavaType type, long[] shape, byte[] bytes) {

		static TensorCopy of(OnnxTensor t, boolean withData) {
			TensorInfo info = t.getInfo();
			byte[] data = null;
			if (withData) {
				ByteBuffer b = t.getByteBuffer(); // a copy, native order
				data = new byte[b.remaining()];
				b.get(data);
			}
			return new TensorCopy(info.type, info.getShape(), data);
		}

		/** A tensor over a fresh direct buffer holding the copied bytes (or zeros for an output). */
		OnnxTensor create() throws OrtException {
			int n = elementSize(type);
			long count = 1;
			for (long d : shape) count *= d;
			ByteBuffer b = ByteBuffer.allocateDirect(Math.toIntExact(count * n)).order(ByteOrder.nativeOrder());
			if (bytes != null) b.put(bytes).rewind();
			return OnnxTensor.createTensor(OnnxEnvironment.get(), b, shape, type);
		}

		/** The same tensor with its first (batch) axis cut to {@code [from, from + count)}; rank-0 stays as is. */
		TensorCopy slice(int from, int count) {
			if (shape.length == 0) return this;
			long[] s = shape.clone();
			int per = bytes.length / (int) shape[0];
			s[0] = count;
			byte[] part = new byte[per * count];
			System.arraycopy(bytes, per * from, part, 0, part.length);
			return new TensorCopy(type, s, part);
		}
	}

	final OnnxComponent component;
	final Map<String, TensorCopy> inputs;
	final Map<String, TensorCopy> outputs;
	/** The call emptied the session's arena when it ended (a batch's last UNet step); the replay does the same. */
	final boolean releasesMemory;

	RecordedCall(OnnxComponent component, Map<String, TensorCopy> inputs, Map<String, TensorCopy> outputs) {
		this(component, inputs, outputs, false);
	}

	RecordedCall(OnnxComponent component, Map<String, TensorCopy> inputs, Map<String, TensorCopy> outputs,
		boolean releasesMemory)
	{
		this.component = component;
		this.inputs = inputs;
		this.outputs = outputs;
		this.releasesMemory = releasesMemory;
	}

	static RecordedCall of(OnnxComponent component, Map<String, ? extends OnnxTensorLike> inputs, OrtSession.Result result,
		boolean releasedMemory)
	{
		Map<String, TensorCopy> in = new LinkedHashMap<>();
		inputs.forEach((k, v) -> in.put(k, TensorCopy.of((OnnxTensor) v, true)));
		Map<String, TensorCopy> out = new LinkedHashMap<>();
		for (Map.Entry<String, OnnxValue> e : result) out.put(e.getKey(), TensorCopy.of((OnnxTensor) e.getValue(), false));
		return new RecordedCall(component, in, out, releasedMemory);
	}

	/** The same call on the batch rows {@code [from, from + count)} of every batched input and output. */
	RecordedCall slice(int from, int count) {
		Map<String, TensorCopy> in = new LinkedHashMap<>();
		inputs.forEach((k, v) -> in.put(k, v.slice(from, count)));
		Map<String, TensorCopy> out = new LinkedHashMap<>();
		outputs.forEach((k, v) -> {
			long[] s = v.shape().clone();
			if (s.length > 0) s[0] = count;
			out.put(k, new TensorCopy(v.type(), s, null));
		});
		return new RecordedCall(component, in, out);
	}

	/** One call on the batches of {@code a} and then {@code b} (same component and shapes but the first axis). */
	static RecordedCall concat(RecordedCall a, RecordedCall b) {
		Map<String, TensorCopy> in = new LinkedHashMap<>();
		a.inputs.forEach((k, v) -> {
			TensorCopy w = b.inputs.get(k);
			if (v.shape().length == 0) in.put(k, v);
			else {
				long[] s = v.shape().clone();
				s[0] += w.shape()[0];
				byte[] both = new byte[v.bytes().length + w.bytes().length];
				System.arraycopy(v.bytes(), 0, both, 0, v.bytes().length);
				System.arraycopy(w.bytes(), 0, both, v.bytes().length, w.bytes().length);
				in.put(k, new TensorCopy(v.type(), s, both));
			}
		});
		Map<String, TensorCopy> out = new LinkedHashMap<>();
		a.outputs.forEach((k, v) -> {
			long[] s = v.shape().clone();
			if (s.length > 0) s[0] += b.outputs.get(k).shape()[0];
			out.put(k, new TensorCopy(v.type(), s, null));
		});
		return new RecordedCall(a.component, in, out);
	}

	/** Batch size of the call (first axis of its first input of rank ≥ 1). */
	long batch() {
		for (TensorCopy t : inputs.values()) if (t.shape().length > 0) return t.shape()[0];
		return 1;
	}

	/** The call with inputs built and outputs pre-allocated once, ready to run again and again. */
	Prepared prepare() throws OrtException {
		return new Prepared(this);
	}

	static final class Prepared implements AutoCloseable {
		final RecordedCall call;
		final Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
		final Map<String, OnnxTensor> outputs = new LinkedHashMap<>();
		private final List<OnnxTensor> all = new ArrayList<>();

		Prepared(RecordedCall call) throws OrtException {
			this.call = call;
			try {
				for (var e : call.inputs.entrySet()) add(inputs, e.getKey(), e.getValue().create());
				for (var e : call.outputs.entrySet()) add(outputs, e.getKey(), e.getValue().create());
			}
			catch (OrtException | RuntimeException e) {
				close();
				throw e;
			}
		}

		private void add(Map<String, OnnxTensor> map, String name, OnnxTensor t) {
			all.add(t);
			map.put(name, t);
		}

		/** One bare session call: pre-built inputs, pre-allocated outputs, memory released when the original did. */
		void run() throws OrtException {
			OrtSession.RunOptions options = call.releasesMemory ? call.component.releaseMemoryOptions() : null;
			try (OrtSession.Result r = call.component.session().run(inputs, Set.of(), outputs, options)) {
				// outputs stay in the pinned tensors
			}
		}

		/** The same call on another session of the same model file (another optimisation level). */
		void run(OrtSession session) throws OrtException {
			try (OrtSession.Result r = session.run(inputs, outputs)) {
				// outputs stay in the pinned tensors
			}
		}

		@Override
		public void close() {
			all.forEach(OnnxTensor::close);
		}
	}

	static int elementSize(OnnxJavaType type) {
		switch (type) {
			case FLOAT: case INT32: return 4;
			case FLOAT16: case BFLOAT16: case INT16: return 2;
			case DOUBLE: case INT64: return 8;
			case INT8: case UINT8: case BOOL: return 1;
			default: throw new IllegalArgumentException("Cannot copy tensors of type " + type);
		}
	}
}
