package sc.fiji.sd.pipeline;

import java.util.List;

import sc.fiji.sd.model.StableDiffusionModel;

/**
 * What the UNet calls of one batch look like, for the parts that feed them ({@link TextInputs}, {@link UnetInput}s):
 * the model, the request, the output size, the images of the batch, and which halves of classifier-free guidance each
 * call of a step holds. Rows of every batched UNet input are {@code halves × images}, half after half: with CFG batched
 * one call {@code [negative × B, prompt × B]}, with CFG separate two calls {@code [negative × B]} and
 * {@code [prompt × B]}, without CFG one call {@code [prompt × B]}.
 *
 * @param width output width in pixels (latent width × 8)
 * @param height output height in pixels
 * @param images images denoised together (B)
 * @param guidance the guidance scale asked for (CFG scale; LCM's embedded guidance)
 * @param calls per UNet call of a step, the halves it holds, in row order
 */
public record UnetBatch(StableDiffusionModel model, GenerationRequest request, int width, int height, int images,
	double guidance, List<List<Half>> calls) {

	/** A half of classifier-free guidance: the negative (unconditional) or the prompt's (conditional) rows. */
	public enum Half {
		NEGATIVE, PROMPT
	}

	static UnetBatch of(StableDiffusionModel model, GenerationRequest request, Plan plan, boolean separate) {
		List<List<Half>> calls = !plan.cfg ? List.of(List.of(Half.PROMPT))
			: separate ? List.of(List.of(Half.NEGATIVE), List.of(Half.PROMPT))
			: List.of(List.of(Half.NEGATIVE, Half.PROMPT));
		return new UnetBatch(model, request, plan.width, plan.height, plan.batch, plan.guidance, calls);
	}

	/** Whether classifier-free guidance runs (a negative half exists). */
	public boolean cfg() {
		return calls.stream().anyMatch(c -> c.contains(Half.NEGATIVE));
	}

	/** Rows of each UNet call: halves per call × images. */
	public int callBatch() {
		return calls.get(0).size() * images;
	}

	public int latentWidth() {
		return width / 8;
	}

	public int latentHeight() {
		return height / 8;
	}
}
