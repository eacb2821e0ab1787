package sc.fiji.sd.pipeline;

import ai.onnxruntime.OrtException;
import sc.fiji.sd.onnx.Cancellation;

/**
 * What the denoising loop asks each step: the noise prediction (guided when CFG runs) for the whole batch's scaled
 * latents. The UNet on the whole latent ({@link UnetRunner}) or in overlapping tiles ({@link TiledUnet}).
 */
interface NoisePredictor extends AutoCloseable {

	/**
	 * The prediction for {@code latentInput} ({@code [images, 4, h, w]}) at timestep {@code t}, index {@code step} of
	 * the scheduler's list; {@code last}: the batch's last step, after which the UNet may release its working memory.
	 *
	 * @throws Cancellation.CancelledException when cancelled during the prediction
	 */
	float[] predict(int step, double t, float[] latentInput, boolean last, Cancellation cancellation)
		throws OrtException;

	/** The loop runs the scheduler's steps {@code first … total − 1} (for progress that names the step). */
	default void runsSteps(int first, int total) {}

	@Override
	void close();
}
