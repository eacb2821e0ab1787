package sc.fiji.sd.pipeline;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.model.OnnxComponent;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.Tensors;
import sc.fiji.sd.text.PromptChunker;
import sc.fiji.sd.text.PromptWeighting;
import sc.fiji.sd.text.TokenChunk;

/**
 * Prompt text → the hidden states the UNet attends to, with AUTOMATIC1111 semantics: the prompt is cut into chunks of
 * 75 tokens (+ start and end), each chunk is encoded on its own, emphasis weights scale each token's vector (then the
 * chunk is rescaled to its original mean), and the chunks are concatenated along the token axis. Prompt and negative
 * prompt are padded to the same number of chunks, so CFG can run them as one batch.
 * <p>
 * One CLIP text encoder session, for a {@link TextConditioning} (SD 1/2: {@link ClipTextConditioning}; SDXL runs
 * two, {@link SdxlTextConditioning}). It runs a session, so it lives beside the other parts that run sessions; {@code sc.fiji.sd.text} stays pure text processing (tokenizer, prompt syntax, chunks, weights), which
 * the model may use without an import cycle.
 */
public final class TextEncoder {

	/**
	 * Encoded prompts: row-major {@code [tokens × width]} hidden states, {@code tokens} = 77 × chunks.
	 *
	 * @param prompt the prompt's hidden states
	 * @param negative the negative prompt's hidden states (same size), or null when not asked for
	 */
	public record Conditioning(float[] prompt, float[] negative, int tokens, int width) {}

	private final OnnxComponent encoder;
	private final PromptChunker chunker;
	private final String idsInput;
	private final OnnxJavaType idsType;
	private final String hiddenOutput;
	private final int width;

	/** The model's (SD 1/2) text encoder and its last hidden states. */
	public TextEncoder(StableDiffusionModel model) {
		this(model.textEncoder(), new PromptChunker(model.tokenizer(), model.triggerWords()), "last_hidden_state",
			model.info().textWidth());
	}

	/**
	 * Any CLIP text encoder session, read at one output (e.g. SDXL's penultimate {@code hidden_states.N}).
	 *
	 * @param hiddenOutput the output to read (the first output when the export has none of that name)
	 * @param width the hidden states' width
	 */
	public TextEncoder(OnnxComponent encoder, PromptChunker chunker, String hiddenOutput, int width) {
		this.encoder = encoder;
		this.chunker = chunker;
		this.idsInput = encoder.inputNamed("input_ids");
		this.idsType = encoder.inputType(idsInput);
		this.hiddenOutput = encoder.outputNamed(hiddenOutput);
		this.width = width;
	}

	public PromptChunker chunker() {
		return chunker;
	}

	/** The width of the hidden states it returns. */
	public int width() {
		return width;
	}

	/** Encodes the prompt and, when {@code withNegative}, the negative prompt (padded to the same chunk count). */
	public Conditioning encode(String prompt, String negativePrompt, boolean withNegative) {
		PromptChunker.Pair pair = chunker.chunkPair(prompt, withNegative ? negativePrompt : "");
		float[] p = encodeChunks(pair.prompt());
		float[] n = withNegative ? encodeChunks(pair.negative()) : null;
		return new Conditioning(p, n, p.length / width, width);
	}

	/**
	 * Encoded chunks.
	 *
	 * @param hidden the weighted hidden states of every chunk, concatenated: {@code [77·chunks × width]}
	 * @param pooled the first chunk's pooled output (unweighted, as AUTOMATIC1111 and diffusers take it), or null
	 */
	public record Chunks(float[] hidden, float[] pooled) {}

	/** Encodes each chunk, applies its weights, and concatenates: {@code [77·chunks × width]}. */
	public float[] encodeChunks(List<TokenChunk> chunks) {
		return encodeChunks(chunks, null).hidden();
	}

	/**
	 * {@link #encodeChunks(List)}, also reading output {@code pooledOutput} of the first chunk (SDXL's
	 * {@code text_embeds}); null reads no pooled output.
	 */
	public Chunks encodeChunks(List<TokenChunk> chunks, String pooledOutput) {
		int perChunk = chunks.get(0).inputIds().length;
		float[] out = new float[chunks.size() * perChunk * width];
		float[] pooled = null;
		for (int i = 0; i < chunks.size(); i++) {
			TokenChunk chunk = chunks.get(i);
			boolean withPooled = i == 0 && pooledOutput != null;
			Map<String, float[]> outputs = encodeIds(chunk.inputIds(),
				withPooled ? Set.of(hiddenOutput, pooledOutput) : Set.of(hiddenOutput));
			float[] hidden = outputs.get(hiddenOutput);
			if (withPooled) pooled = outputs.get(pooledOutput);
			if (!chunk.isUnweighted()) hidden = PromptWeighting.apply(hidden, perChunk, width, chunk.weights());
			System.arraycopy(hidden, 0, out, i * perChunk * width, hidden.length);
		}
		return new Chunks(out, pooled);
	}

	/** Runs the text encoder on one chunk of token ids: {@code [ids.length × width]} hidden states. */
	public float[] encodeIds(int[] ids) {
		return encodeIds(ids, Set.of(hiddenOutput)).get(hiddenOutput);
	}

	/**
	 * Runs the text encoder on one chunk of token ids and reads the named outputs (the hidden states checked to be
	 * {@code [ids.length × width]}).
	 */
	public Map<String, float[]> encodeIds(int[] ids, Set<String> outputs) {
		try (OnnxTensor input = Tensors.createIds(idsType, ids, new long[] { 1, ids.length });
			OrtSession.Result result = encoder.run(Map.of(idsInput, input), outputs))
		{
			Map<String, float[]> read = new LinkedHashMap<>();
			for (String name : outputs) {
				read.put(name, Tensors.toFloats(result.get(name).orElseThrow(() -> new StableDiffusionException(
					encoder.file() + " did not return its output " + name + "."))));
			}
			float[] hidden = read.get(hiddenOutput);
			if (hidden != null && hidden.length != ids.length * width) {
				throw new StableDiffusionException("The text encoder returned " + hidden.length + " values for "
					+ ids.length + " tokens; expected width " + width + ". The model export is inconsistent.");
			}
			return read;
		}
		catch (OrtException e) {
			throw new IllegalStateException("Text encoder failed: " + e.getMessage(), e);
		}
	}
}
