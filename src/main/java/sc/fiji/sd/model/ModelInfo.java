package sc.fiji.sd.model;

import java.nio.file.Path;

/**
 * What was detected about a loaded model: read from the ONNX sessions and the configs, never guessed from the name.
 *
 * @param name folder name (used as "Model:" in the provenance text)
 * @param folder the model folder
 * @param pipelineClass {@code _class_name} of model_index.json (empty when absent)
 * @param variant "text to image", "inpainting (9-channel UNet)" or "LCM (timestep_cond)"
 * @param unetType element type of the UNet's {@code sample}: float32 or float16
 * @param inputIdsType element type of the text encoder's {@code input_ids}: int32 or int64
 * @param timestepType element type of the UNet's {@code timestep}: float32, float16 or int64
 * @param timestepIsScalar true when {@code timestep} has shape [] (optimum), false for [B] (diffusers script)
 * @param textWidth width of the text encoder's hidden states (768 SD 1.x, 1024 SD 2.x)
 * @param tokens tokens per text chunk (77)
 * @param latentChannels channels of the latents (4)
 * @param unetInChannels channels of the UNet's {@code sample} input: 4, or 9 for inpainting models
 * @param timestepCondDim width of the LCM guidance embedding input {@code timestep_cond}, 0 when absent
 * @param vaeEncoderOutput {@code latent_sample} (already a sample) or {@code latent_parameters} (mean and log-variance);
 *          empty when the model has no VAE encoder
 * @param predictionType epsilon, v_prediction or sample (scheduler config)
 * @param schedulerClass {@code _class_name} of the scheduler config
 * @param nativeSize the size the model was trained at, in pixels (default image size)
 * @param sizeStep width and height must be multiples of this (8 × the UNet's total down-sampling)
 * @param scalingFactor VAE latent scaling factor (0.18215 for SD 1.x/2.x)
 * @param device the device asked for: auto, cpu or cuda
 * @param provider where the sessions run: CUDA or CPU
 * @param fallbackReason why device auto is not on CUDA, or null
 * @param family SD 1.x, SD 2.x, SDXL base / refiner / inpainting
 * @param sdxl SDXL's conditioning details, null for the other families
 */
public record ModelInfo(String name, Path folder, String pipelineClass, String variant, String unetType,
	String inputIdsType, String timestepType, boolean timestepIsScalar, int textWidth, int tokens, int latentChannels,
	int unetInChannels, int timestepCondDim, String vaeEncoderOutput, String predictionType, String schedulerClass,
	int nativeSize, int sizeStep, double scalingFactor, String device, String provider, String fallbackReason,
	ModelFamily family, SdxlConfig sdxl) {

	/** An SD 1.x/2.x model (family from the text width). */
	public ModelInfo(String name, Path folder, String pipelineClass, String variant, String unetType,
		String inputIdsType, String timestepType, boolean timestepIsScalar, int textWidth, int tokens, int latentChannels,
		int unetInChannels, int timestepCondDim, String vaeEncoderOutput, String predictionType, String schedulerClass,
		int nativeSize, int sizeStep, double scalingFactor, String device, String provider, String fallbackReason)
	{
		this(name, folder, pipelineClass, variant, unetType, inputIdsType, timestepType, timestepIsScalar, textWidth,
			tokens, latentChannels, unetInChannels, timestepCondDim, vaeEncoderOutput, predictionType, schedulerClass,
			nativeSize, sizeStep, scalingFactor, device, provider, fallbackReason, ModelFamily.ofTextWidth(textWidth), null);
	}

	public boolean isSdxl() { return sdxl != null; }

	public boolean inpainting() { return unetInChannels == 9; }

	public boolean lcm() { return timestepCondDim > 0; }

	public boolean fp16() { return "float16".equals(unetType); }

	public boolean hasVaeEncoder() { return !vaeEncoderOutput.isEmpty(); }

	/** Multi-line description for {@code info} and the Fiji log. */
	public String describe() {
		StringBuilder sb = new StringBuilder();
		line(sb, "Model", name + "  (" + folder + ")");
		line(sb, "Family", family.label());
		line(sb, "Pipeline", pipelineClass.isEmpty() ? "(no _class_name)" : pipelineClass);
		line(sb, "Variant", variant);
		line(sb, "Weights", unetType + (fp16() ? " (half precision)" : ""));
		line(sb, "Text encoder", (isSdxl() ? (family == ModelFamily.SDXL_REFINER ? "text_encoder_2 only, "
			: "text_encoder + text_encoder_2 (penultimate hidden states concatenated), ") : "") + "input_ids " + inputIdsType + ", " + tokens + " tokens, width " + textWidth);
		line(sb, "UNet", unetInChannels + " input channels, " + latentChannels + " latent channels, timestep "
			+ timestepType + (timestepIsScalar ? " scalar" : " [B]")
			+ (lcm() ? ", timestep_cond width " + timestepCondDim : "")
			+ (isSdxl() ? ", text_embeds width " + sdxl.pooledWidth() + ", " + sdxl.timeIds() + " time_ids" : ""));
		line(sb, "VAE encoder", hasVaeEncoder() ? "output " + vaeEncoderOutput
			+ ("latent_parameters".equals(vaeEncoderOutput) ? " (mean of the distribution is used)" : "")
			: "none (image to image and inpainting unavailable)");
		line(sb, "Latent scale", Double.toString(scalingFactor));
		line(sb, "Prediction type", predictionType);
		line(sb, "Scheduler", schedulerClass);
		line(sb, "Native size", nativeSize + "x" + nativeSize);
		line(sb, "Size step", sizeStep + " (width and height must be multiples)");
		line(sb, "Device", device + " -> " + provider + (fallbackReason == null ? "" : " (CUDA not used: " + fallbackReason + ")"));
		return sb.toString();
	}

	private static void line(StringBuilder sb, String key, String value) {
		sb.append(String.format("%-16s %s%n", key + ":", value));
	}
}
