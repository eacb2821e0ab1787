package sc.fiji.sd.pipeline;

import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import sc.fiji.sd.model.ModelInfo;
import sc.fiji.sd.model.OnnxComponent;
import sc.fiji.sd.onnx.Tensors;

/**
 * LCM's {@code timestep_cond}: the guidance scale as an embedding the UNet was distilled with (LCM runs no
 * unconditional pass), the same for every image, call and step of a batch.
 */
final class LcmTimestepCond implements UnetInput {

	static final String INPUT = "timestep_cond";

	private final Map<String, OnnxTensor> inputs;

	private LcmTimestepCond(OnnxTensor tensor) {
		this.inputs = Map.of(INPUT, tensor);
	}

	/** For an LCM UNet (one with {@code time_cond_proj_dim}); null for any other. */
	static UnetInput create(UnetBatch batch) throws OrtException {
		ModelInfo info = batch.model().info();
		if (!info.lcm()) return null;
		OnnxComponent unet = batch.model().unet();
		float[] embedding = guidanceEmbedding(batch.guidance(), info.timestepCondDim());
		return new LcmTimestepCond(Tensors.create(unet.inputType(INPUT), ImageSource.repeat(embedding, batch.callBatch()),
			new long[] { batch.callBatch(), info.timestepCondDim() }));
	}

	@Override
	public Map<String, OnnxTensor> inputsFor(UnetCall call) {
		return inputs;
	}

	@Override
	public void close() {
		inputs.get(INPUT).close();
	}

	/**
	 * LCM guidance embedding, as diffusers' LatentConsistencyModelPipeline computes it: {@code w = (g − 1)·1000};
	 * {@code [sin(w·f_k), cos(w·f_k)]} with {@code f_k = exp(−k·ln(10000)/(dim/2 − 1))}, zero-padded to an odd width.
	 */
	static float[] guidanceEmbedding(double guidance, int dim) {
		double w = (guidance - 1) * 1000.0;
		int half = dim / 2;
		float[] out = new float[dim];
		double step = Math.log(10000.0) / (half - 1);
		for (int k = 0; k < half; k++) {
			float f = (float) Math.exp(-k * step);
			double arg = (float) w * f;
			out[k] = (float) Math.sin(arg);
			out[half + k] = (float) Math.cos(arg);
		}
		return out;
	}
}
