package sc.fiji.sd.pipeline;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.model.OnnxComponent;
import sc.fiji.sd.model.SdxlConfig;
import sc.fiji.sd.model.SdxlDetection;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.text.PromptChunker;

/**
 * SDXL's text conditioning, as diffusers' {@code StableDiffusionXLPipeline.encode_prompt} computes it: each encoder's
 * second-to-last hidden states ({@code hidden_states.(N-1)}), concatenated on the last axis (encoder 1 then encoder 2;
 * the refiner has encoder 2 only) as {@code encoder_hidden_states}, and encoder 2's projected pooled output
 * {@code text_embeds}. AUTOMATIC1111's prompt syntax on both encoders: emphasis weights each encoder's hidden states
 * ({@link TextEncoder}), long prompts run in 75-token chunks, and the pooled output is the first chunk's. An empty
 * negative prompt is all zeros (hidden states and pooled) when the model sets {@code force_zeros_for_empty_prompt}.
 */
final class SdxlTextConditioning implements TextConditioning {

	static final String POOLED = "text_embeds";

	private final List<TextEncoder> encoders = new ArrayList<>(); // encoder 1 (absent on the refiner), encoder 2
	private final SdxlConfig config;
	private final String hiddenInput;
	private final int width;

	SdxlTextConditioning(StableDiffusionModel model) {
		this.config = model.info().sdxl();
		this.width = model.info().textWidth();
		this.hiddenInput = model.unet().inputNamed("encoder_hidden_states");
		OnnxComponent second = model.textEncoder2();
		int width2 = outputWidth(second);
		if (model.textEncoder() != null) {
			OnnxComponent first = model.textEncoder();
			int width1 = outputWidth(first);
			if (width1 <= 0) width1 = width - width2;
			encoders.add(new TextEncoder(first, new PromptChunker(model.tokenizer()), SdxlDetection.penultimate(first),
				width1));
		}
		if (width2 <= 0) width2 = width - (encoders.isEmpty() ? 0 : encoders.get(0).width());
		encoders.add(new TextEncoder(second, new PromptChunker(model.tokenizer2()), SdxlDetection.penultimate(second),
			width2));
		int sum = encoders.stream().mapToInt(TextEncoder::width).sum();
		if (sum != width) {
			throw new StableDiffusionException("The text encoders' hidden states are " + sum + " wide together, but "
				+ model.unet().file() + " takes encoder_hidden_states " + width + " wide. The model export is inconsistent.");
		}
	}

	private static int outputWidth(OnnxComponent encoder) {
		long[] shape = encoder.outputShape(SdxlDetection.penultimate(encoder));
		return shape.length == 0 ? -1 : (int) shape[shape.length - 1];
	}

	@Override
	public TextEmbeddings encode(String prompt, String negativePrompt, boolean withNegative) {
		boolean zeroNegative = withNegative && config.forceZerosForEmptyPrompt() && negativePrompt.isBlank();
		String pairedNegative = withNegative && !zeroNegative ? negativePrompt : ""; // chunk counts as a pair
		Encoded p = encodeAll(prompt, pairedNegative, false);
		Encoded n = !withNegative ? null : zeroNegative ? p.zeros() : encodeAll(prompt, pairedNegative, true);
		NonFinite.checkTextEncoder(p.hidden);
		NonFinite.checkTextEncoder(p.pooled);
		if (n != null) {
			NonFinite.checkTextEncoder(n.hidden);
			NonFinite.checkTextEncoder(n.pooled);
		}
		Map<String, TextEmbeddings.Embedding> inputs = new LinkedHashMap<>();
		inputs.put(hiddenInput, new TextEmbeddings.Embedding(p.hidden, n == null ? null : n.hidden,
			new long[] { p.hidden.length / width, width }));
		inputs.put(POOLED, new TextEmbeddings.Embedding(p.pooled, n == null ? null : n.pooled,
			new long[] { p.pooled.length }));
		return new TextEmbeddings(inputs);
	}

	private record Encoded(float[] hidden, float[] pooled) {
		Encoded zeros() {
			return new Encoded(new float[hidden.length], new float[pooled.length]);
		}
	}

	/** The prompt's (or, with {@code negative}, the negative prompt's) conditioning, chunks padded as a pair. */
	private Encoded encodeAll(String prompt, String negativePrompt, boolean negative) {
		float[][] hidden = new float[encoders.size()][];
		float[] pooled = null;
		int tokens = -1;
		for (int e = 0; e < encoders.size(); e++) {
			TextEncoder encoder = encoders.get(e);
			PromptChunker.Pair pair = encoder.chunker().chunkPair(prompt, negativePrompt);
			boolean last = e == encoders.size() - 1;
			TextEncoder.Chunks chunks = encoder.encodeChunks(negative ? pair.negative() : pair.prompt(),
				last ? POOLED : null);
			hidden[e] = chunks.hidden();
			if (last) pooled = chunks.pooled();
			int t = chunks.hidden().length / encoder.width();
			if (tokens >= 0 && t != tokens) {
				throw new StableDiffusionException("The two SDXL tokenizers cut the prompt into different numbers of "
					+ "chunks (" + tokens / 77 + " and " + t / 77 + "); check that tokenizer/ and tokenizer_2/ hold the "
					+ "same CLIP vocabulary.");
			}
			tokens = t;
		}
		float[] out = new float[tokens * width];
		int offset = 0;
		for (int e = 0; e < encoders.size(); e++) {
			int w = encoders.get(e).width();
			for (int t = 0; t < tokens; t++) System.arraycopy(hidden[e], t * w, out, t * width + offset, w);
			offset += w;
		}
		return new Encoded(out, pooled);
	}
}
