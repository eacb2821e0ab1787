package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.Tensors;
import sc.fiji.sd.pipeline.UnetBatch.Half;

/**
 * The text conditioning packed for the UNet: each call's tensor holds its CFG halves, each repeated for every image
 * ({@code [negative × B, prompt × B]} batched, one half per call separate, the prompt alone without CFG).
 */
class TextInputsTest {

	private static final String NAME = "encoder_hidden_states";

	/** Two tokens of the model's width: 1, 2, 3, … for the prompt ({@code sign} 1), −1, −2, … for the negative. */
	private static float[] values(int sign) {
		float[] v = new float[2 * TestModels.model("embedded").info().textWidth()];
		for (int i = 0; i < v.length; i++) v[i] = sign * (1 + i);
		return v;
	}

	private static float[][] packed(List<List<Half>> calls, int images) throws Exception {
		StableDiffusionModel model = TestModels.model("embedded");
		int width = model.info().textWidth();
		float[] prompt = values(1), negative = values(-1);
		TextEmbeddings text = TextEmbeddings.of(NAME, new TextEmbeddings.Embedding(prompt, negative, new long[] { 2, width }));
		UnetBatch batch = new UnetBatch(model, null, 64, 64, images, 7, calls);
		try (TextInputs inputs = new TextInputs(model.unet(), text, batch)) {
			float[][] out = new float[calls.size()][];
			for (int c = 0; c < calls.size(); c++) {
				out[c] = Tensors.toFloats(inputs.forCall(c).get(NAME));
				assertEquals(calls.get(c).size() * images * prompt.length, out[c].length);
			}
			return out;
		}
	}

	private static float[] concat(float[]... parts) {
		int n = 0;
		for (float[] p : parts) n += p.length;
		float[] out = new float[n];
		int at = 0;
		for (float[] p : parts) {
			System.arraycopy(p, 0, out, at, p.length);
			at += p.length;
		}
		return out;
	}

	@Test
	void halvesRepeatedPerImageInCallOrder() throws Exception {
		float[] prompt = values(1), negative = values(-1);
		float[][] batched = packed(List.of(List.of(Half.NEGATIVE, Half.PROMPT)), 2);
		assertArrayEquals(concat(negative, negative, prompt, prompt), batched[0]);
		float[][] separate = packed(List.of(List.of(Half.NEGATIVE), List.of(Half.PROMPT)), 2);
		assertArrayEquals(concat(negative, negative), separate[0]);
		assertArrayEquals(concat(prompt, prompt), separate[1]);
		assertArrayEquals(concat(prompt, prompt, prompt), packed(List.of(List.of(Half.PROMPT)), 3)[0]);
	}
}
