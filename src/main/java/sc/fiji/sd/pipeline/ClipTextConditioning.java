package sc.fiji.sd.pipeline;

import java.util.Arrays;

import sc.fiji.sd.model.OnnxComponent;
import sc.fiji.sd.model.StableDiffusionModel;

/**
 * SD 1.x and 2.x text conditioning: the one CLIP text encoder's last hidden states, 77 tokens per 75-token chunk of
 * the prompt ({@link TextEncoder}), as the UNet's {@code encoder_hidden_states}.
 */
final class ClipTextConditioning implements TextConditioning {

	private final TextEncoder encoder;
	private final OnnxComponent unet;

	ClipTextConditioning(StableDiffusionModel model) {
		this.encoder = new TextEncoder(model);
		this.unet = model.unet();
	}

	@Override
	public TextEmbeddings encode(String prompt, String negativePrompt, boolean withNegative) {
		TextEncoder.Conditioning text = encoder.encode(prompt, negativePrompt, withNegative);
		NonFinite.checkTextEncoder(text.prompt());
		NonFinite.checkTextEncoder(text.negative());
		String name = unet.inputNamed("encoder_hidden_states");
		long[] declared = unet.inputShape(name);
		int tokens = text.tokens();
		if (declared.length == 3 && declared[1] > 0 && declared[1] < tokens) {
			tokens = (int) declared[1]; // an export with a fixed 77-token axis: long prompts are cut to the first chunk
		}
		int size = tokens * text.width();
		return TextEmbeddings.of(name, new TextEmbeddings.Embedding(Arrays.copyOf(text.prompt(), size),
			text.negative() == null ? null : Arrays.copyOf(text.negative(), size), new long[] { tokens, text.width() }));
	}
}
