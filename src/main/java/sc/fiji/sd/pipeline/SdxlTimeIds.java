package sc.fiji.sd.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import sc.fiji.sd.model.SdxlConfig;
import sc.fiji.sd.onnx.Tensors;

/**
 * SDXL's {@code time_ids}, as diffusers' {@code _get_add_time_ids} makes them: original size (height, width), crop
 * top-left (top, left), then the target size (base, 6 ids) or the aesthetic score (refiner, 5 ids: 6 for the prompt
 * half, 2.5 for the negative half, as {@code aesthetic_score} / {@code negative_aesthetic_score} default). Original
 * and target size default to the output size, the crop to 0, 0; the request's {@link GenerationSettings} change the
 * original size, the crop and the scores. The same for every image and step of a batch.
 */
final class SdxlTimeIds implements UnetInput {

	static final String INPUT = "time_ids";

	private final List<Map<String, OnnxTensor>> perCall = new ArrayList<>();

	private SdxlTimeIds() {}

	/** For an SDXL UNet; null for any other. */
	static UnetInput create(UnetBatch batch) throws OrtException {
		SdxlConfig sdxl = batch.model().info().sdxl();
		if (sdxl == null) return null;
		SdxlTimeIds ids = new SdxlTimeIds();
		try {
			for (List<UnetBatch.Half> halves : batch.calls()) {
				float[] values = new float[halves.size() * batch.images() * sdxl.timeIds()];
				int row = 0;
				for (UnetBatch.Half half : halves) {
					float[] one = of(sdxl, batch.width(), batch.height(), half, batch.request());
					for (int i = 0; i < batch.images(); i++, row++) System.arraycopy(one, 0, values, row * one.length, one.length);
				}
				ids.perCall.add(Map.of(INPUT, Tensors.create(batch.model().unet().inputType(INPUT), values,
					new long[] { row, sdxl.timeIds() })));
			}
			return ids;
		}
		catch (OrtException | RuntimeException e) {
			ids.close();
			throw e;
		}
	}

	/** One image's time ids for one CFG half. */
	static float[] of(SdxlConfig sdxl, int width, int height, UnetBatch.Half half) {
		return of(sdxl, width, height, half, GenerationRequest.builder().build());
	}

	/** As {@link #of(SdxlConfig, int, int, UnetBatch.Half)}, with the request's original size, crop and scores. */
	static float[] of(SdxlConfig sdxl, int width, int height, UnetBatch.Half half, GenerationRequest request) {
		GenerationSettings.Size original = request.setting(GenerationSettings.ORIGINAL_SIZE);
		float oh = original == null ? height : original.height(), ow = original == null ? width : original.width();
		GenerationSettings.Crop crop = request.setting(GenerationSettings.CROP_TOP_LEFT);
		if (sdxl.aestheticScore()) {
			double score = half == UnetBatch.Half.NEGATIVE ? request.setting(GenerationSettings.NEGATIVE_AESTHETIC_SCORE)
				: request.setting(GenerationSettings.AESTHETIC_SCORE);
			return new float[] { oh, ow, crop.top(), crop.left(), (float) score };
		}
		return new float[] { oh, ow, crop.top(), crop.left(), height, width };
	}

	@Override
	public Map<String, OnnxTensor> inputsFor(UnetCall call) {
		return perCall.get(call.call());
	}

	@Override
	public void close() {
		perCall.forEach(m -> m.values().forEach(OnnxTensor::close));
	}
}
