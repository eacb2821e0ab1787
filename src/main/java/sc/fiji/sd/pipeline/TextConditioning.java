package sc.fiji.sd.pipeline;

import sc.fiji.sd.model.StableDiffusionModel;

/**
 * A model family's text conditioning: prompt and negative prompt → the UNet's text inputs ({@link TextEmbeddings}).
 * SD 1.x/2.x: one CLIP text encoder's last hidden states as {@code encoder_hidden_states} ({@link ClipTextConditioning}).
 * SDXL: two encoders, penultimate hidden states concatenated, pooled {@code text_embeds} from the second
 * ({@link SdxlTextConditioning}). A family is one class implementing this, chosen in {@link #forModel}.
 */
public interface TextConditioning {

	/**
	 * Encodes the prompt and, when {@code withNegative} (CFG runs), the negative prompt; stops on NaN or infinite
	 * values ({@link NonFinite}).
	 */
	TextEmbeddings encode(String prompt, String negativePrompt, boolean withNegative);

	/** The text conditioning of this model's family. */
	static TextConditioning forModel(StableDiffusionModel model) {
		return model.info().isSdxl() ? new SdxlTextConditioning(model) : new ClipTextConditioning(model);
	}
}
