package sc.fiji.sd.model;

import java.nio.file.Path;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import sc.fiji.sd.StableDiffusionException;

/**
 * Recognises an SDXL export (optimum's layout): by {@code model_index.json}'s {@code _class_name}
 * ({@code StableDiffusionXL...Pipeline}), else by the UNet's {@code text_embeds} / {@code time_ids} inputs; and reads
 * what its conditioning needs from the sessions' shapes.
 */
public final class SdxlDetection {

	private SdxlDetection() {}

	/** SDXL's details, or null for an SD 1.x/2.x model. */
	static SdxlConfig of(Path folder, JsonObject index, OnnxComponent text, OnnxComponent text2, OnnxComponent unet,
		JsonObject unetConfig)
	{
		String pipelineClass = StableDiffusionModel.string(index, "_class_name", "");
		boolean byClass = pipelineClass.startsWith("StableDiffusionXL");
		boolean byInputs = unet.hasInput("text_embeds") || unet.hasInput("time_ids");
		if (!byClass && !byInputs) return null;
		String fix = " Export it again with optimum (optimum-cli export onnx --model <SDXL id> <folder>).";
		if (!unet.hasInput("text_embeds") || !unet.hasInput("time_ids")) {
			throw new StableDiffusionException(unet.file() + " lacks SDXL's text_embeds or time_ids input, although "
				+ folder.resolve("model_index.json") + " names " + pipelineClass + "." + fix);
		}
		if (text2 == null) {
			throw new StableDiffusionException(folder + " is an SDXL model without text_encoder_2/model.onnx." + fix);
		}
		if (!text2.hasOutput("text_embeds")) {
			throw new StableDiffusionException(text2.file() + " has no text_embeds output (the projected pooled "
				+ "embedding SDXL's UNet takes)." + fix);
		}
		penultimate(text2);
		if (text != null) penultimate(text);
		int timeIds = lastDim(unet.inputShape("time_ids"));
		if (timeIds <= 0) timeIds = text == null ? 5 : 6;
		if (timeIds != 5 && timeIds != 6) {
			throw new StableDiffusionException(unet.file() + " takes " + timeIds + " time_ids; SDXL takes 6 (base) or "
				+ "5 (refiner).");
		}
		int pooled = lastDim(unet.inputShape("text_embeds"));
		if (pooled <= 0) pooled = lastDim(text2.outputShape("text_embeds"));
		if (pooled <= 0) pooled = StableDiffusionModel.integer(unetConfig, "projection_class_embeddings_input_dim",
			0) - timeIds * StableDiffusionModel.integer(unetConfig, "addition_time_embed_dim", 256);
		// diffusers' default (a config without the key): true; the refiner writes false
		JsonElement zeros = index.get("force_zeros_for_empty_prompt");
		boolean forceZeros = zeros == null || !zeros.isJsonPrimitive() || zeros.getAsBoolean();
		return new SdxlConfig(timeIds, pooled, forceZeros);
	}

	/**
	 * The hidden-states output diffusers' SDXL conditioning reads: the second-to-last layer's, {@code hidden_states.(N-1)}
	 * where {@code hidden_states.N} is the encoder's last (optimum exports 0 = embeddings .. N = the last layer).
	 */
	public static String penultimate(OnnxComponent encoder) {
		int last = -1;
		for (String name : encoder.outputNames()) {
			if (name.startsWith("hidden_states.")) {
				try {
					last = Math.max(last, Integer.parseInt(name.substring("hidden_states.".length())));
				}
				catch (NumberFormatException e) {
					// another name: not a layer's
				}
			}
		}
		if (last < 1) {
			throw new StableDiffusionException(encoder.file() + " has no hidden_states.N outputs; SDXL's conditioning "
				+ "needs the second-to-last layer's hidden states. Export it with optimum, which writes them.");
		}
		return "hidden_states." + (last - 1);
	}

	/** The UNet's text width: both encoders' widths side by side (or encoder 2's alone for the refiner). */
	static int textWidth(OnnxComponent text, OnnxComponent text2, long[] encoderHiddenStates) {
		int declared = lastDim(encoderHiddenStates);
		if (declared > 0) return declared;
		int w = lastDim(text2.outputShape(penultimate(text2)));
		return text == null ? w : w + lastDim(text.outputShape(penultimate(text)));
	}

	static ModelFamily family(String pipelineClass, SdxlConfig sdxl, int unetInChannels) {
		if (unetInChannels == 9 || pipelineClass.contains("Inpaint")) return ModelFamily.SDXL_INPAINTING;
		return sdxl.aestheticScore() ? ModelFamily.SDXL_REFINER : ModelFamily.SDXL_BASE;
	}

	private static int lastDim(long[] shape) {
		return shape.length == 0 ? -1 : (int) shape[shape.length - 1];
	}
}
