package sc.fiji.sd.pipeline;

import java.util.List;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import sc.fiji.sd.onnx.Cancellation;

/**
 * Extra named inputs of the UNet beyond {@code sample}, {@code timestep} and the text conditioning: LCM's
 * {@code timestep_cond} ({@link LcmTimestepCond}), SDXL's {@code time_ids} ({@link SdxlTimeIds}), ControlNet's
 * residuals ({@link ControlNetResiduals}). One is made per batch by its {@link Factory} (registered in
 * {@link UnetInputs}, or on a pipeline with {@link StableDiffusionPipeline#addUnetInput}) and asked for its tensors
 * before every UNet call; the loop does not know it exists.
 * <p>
 * The tensors it returns stay its own: it closes them (in {@link #close()}, or a step's tensors when the next step
 * asks), the UNet runner only reads them during the call.
 */
public interface UnetInput extends AutoCloseable {

	/** This input's tensors for one UNet call (name → tensor; rows as {@link UnetBatch} lays them out). */
	Map<String, OnnxTensor> inputsFor(UnetCall call) throws OrtException;

	/** The loop runs the scheduler's steps {@code first … total − 1} (told before the first call). */
	default void runsSteps(int first, int total) {}

	@Override
	default void close() {}

	/** Makes the input for one batch. */
	@FunctionalInterface
	interface Factory {
		/** The input for this batch, or null when the model does not take it. */
		UnetInput create(UnetBatch batch) throws OrtException;
	}

	/**
	 * One UNet call, as an input sees it.
	 *
	 * @param step index of the timestep in the scheduler's list
	 * @param timestep the timestep
	 * @param latentInput the scaled latents of the batch, {@code [images, 4, h, w]} (before a 9-channel UNet's extra
	 *        channels; what ControlNet takes as its sample); do not modify
	 * @param call which UNet call of the step (0, or 1 for the prompt half when CFG runs separately)
	 * @param halves the CFG halves this call holds, in row order
	 * @param inputs the UNet inputs set so far (a read-only view, valid during {@code inputsFor}): sample, timestep,
	 *        the text conditioning and those of the inputs before this one in the pipeline's list (SDXL's
	 *        {@code time_ids} before ControlNet's residuals)
	 * @param cancellation stops a model call of the input's own (a ControlNet's) while it runs
	 * @param window where the call's latents lie in the whole latent: all of it, or tiled diffusion's tile
	 */
	record UnetCall(int step, double timestep, float[] latentInput, int call, List<UnetBatch.Half> halves,
		Map<String, OnnxTensor> inputs, Cancellation cancellation, Window window) {}

	/**
	 * The part of the whole latent a UNet call sees, in latent pixels: {@code x, y} its top left corner and
	 * {@code wholeWidth × wholeHeight} the whole latent's size (the part's own size is the batch's).
	 */
	record Window(int x, int y, int wholeWidth, int wholeHeight) {

		/** The whole latent of a batch. */
		static Window whole(UnetBatch batch) {
			return new Window(0, 0, batch.latentWidth(), batch.latentHeight());
		}
	}
}
