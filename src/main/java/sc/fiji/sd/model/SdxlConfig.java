package sc.fiji.sd.model;

/**
 * What an SDXL model's conditioning needs beyond SD 1.x/2.x, read from its sessions and {@code model_index.json}.
 *
 * @param timeIds width of the UNet's {@code time_ids}: 6 (original size, crop top-left, target size) or 5 (refiner:
 *        the aesthetic score instead of the target size)
 * @param pooledWidth width of the UNet's {@code text_embeds} (encoder 2's projected pooled output; 1280)
 * @param forceZerosForEmptyPrompt an empty negative prompt is all zeros (embeddings and pooled), not encoded
 *        ({@code force_zeros_for_empty_prompt}; true for SDXL base)
 */
public record SdxlConfig(int timeIds, int pooledWidth, boolean forceZerosForEmptyPrompt) {

	/** Whether the time ids carry the aesthetic score (the refiner's 5 ids). */
	public boolean aestheticScore() { return timeIds == 5; }
}
