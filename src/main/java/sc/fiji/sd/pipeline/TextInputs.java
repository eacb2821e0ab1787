package sc.fiji.sd.pipeline;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import sc.fiji.sd.model.OnnxComponent;
import sc.fiji.sd.onnx.Tensors;

/**
 * The text conditioning packed for the UNet calls of a step, once per generation: for each call and each named text
 * input, one tensor with the embedding of each half the call holds, repeated for every image ({@link UnetBatch}).
 */
final class TextInputs implements AutoCloseable {

	private final List<Tensors.Reusable> tensors = new ArrayList<>();
	private final List<Map<String, OnnxTensor>> calls = new ArrayList<>();

	TextInputs(OnnxComponent unet, TextEmbeddings text, UnetBatch batch) throws OrtException {
		try {
			for (List<UnetBatch.Half> halves : batch.calls()) {
				Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
				for (Map.Entry<String, TextEmbeddings.Embedding> e : text.inputs().entrySet()) {
					inputs.put(e.getKey(), pack(unet, e.getKey(), e.getValue(), halves, batch.images()));
				}
				calls.add(inputs);
			}
		}
		catch (OrtException | RuntimeException e) {
			close();
			throw e;
		}
	}

	/** One tensor holding each of {@code halves} repeated for every image, in order. */
	private OnnxTensor pack(OnnxComponent unet, String name, TextEmbeddings.Embedding e, List<UnetBatch.Half> halves,
		int images) throws OrtException
	{
		long[] shape = new long[e.shape().length + 1];
		shape[0] = (long) halves.size() * images;
		System.arraycopy(e.shape(), 0, shape, 1, e.shape().length);
		Tensors.Reusable t = new Tensors.Reusable(unet.inputType(name), shape);
		tensors.add(t);
		int perImage = e.size();
		for (int h = 0; h < halves.size(); h++) {
			for (int i = 0; i < images; i++) t.put((h * images + i) * perImage, e.of(halves.get(h)), 0, perImage);
		}
		return t.tensor();
	}

	/** The text inputs of UNet call {@code call} of a step (name → tensor). */
	Map<String, OnnxTensor> forCall(int call) {
		return calls.get(call);
	}

	@Override
	public void close() {
		tensors.forEach(Tensors.Reusable::close);
	}
}
