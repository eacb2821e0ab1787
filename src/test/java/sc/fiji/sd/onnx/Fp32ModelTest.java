package sc.fiji.sd.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import sc.fiji.sd.model.EmbeddedModel;

/**
 * An fp16 model rewritten in fp32 computes what the fp16 model means, without its overflow: the fp16 VAE decoder
 * fixture that overflows ({@code fixtures/fp16-overflow}, {@code tools/model/make_nan_fixtures.py}), the fp16 fixture
 * (fp16 weights, inputs and outputs) and a model with an external weights file.
 */
class Fp32ModelTest {

	private static final Path OVERFLOW = Path.of("src/test/resources/fixtures/fp16-overflow/vae_decoder/model.onnx");
	private static final Path FP16_DECODER = Path.of("src/test/resources/fixtures/fp16/vae_decoder/model.onnx");

	@TempDir
	Path dir;

	@Test
	void theOverflowingFp16DecoderIsFiniteInFp32() throws OrtException {
		float[] latents = new float[4 * 2 * 2];
		for (int i = 0; i < latents.length; i++) latents[i] = (i % 5) * 0.3f - 0.5f;
		Path fp32 = dir.resolve("model.onnx");
		Fp32Model.write(OVERFLOW, fp32);

		float[] half = run(OVERFLOW, "latent_sample", latents, new long[] { 1, 4, 2, 2 }).get("sample");
		assertTrue(Float.isNaN(half[0]), "the fixture overflows in fp16");
		try (OrtSession s = OnnxEnvironment.get().createSession(fp32.toString(), new OrtSession.SessionOptions())) {
			assertEquals(OnnxJavaType.FLOAT, Tensors.elementType(s.getInputInfo().get("latent_sample")));
			assertEquals(OnnxJavaType.FLOAT, Tensors.elementType(s.getOutputInfo().get("sample")));
		}
		float[] full = run(fp32, "latent_sample", latents, new long[] { 1, 4, 2, 2 }).get("sample");
		// sample = 0.25 × the 8× nearest upscale of latent channels 0-2
		for (int c = 0; c < 3; c++)
			for (int y = 0; y < 16; y++)
				for (int x = 0; x < 16; x++)
					assertEquals(0.25f * latents[c * 4 + (y / 8) * 2 + x / 8], full[(c * 16 + y) * 16 + x], 1e-6f);
	}

	@Test
	void anFp16DecoderGivesItsOwnValuesInFp32() throws OrtException {
		float[] latents = new float[4 * 4 * 4];
		for (int i = 0; i < latents.length; i++) latents[i] = (float) Math.sin(i * 0.7);
		Path fp32 = dir.resolve("decoder.onnx");
		Fp32Model.write(FP16_DECODER, fp32);
		float[] half = run(FP16_DECODER, "latent_sample", latents, new long[] { 1, 4, 4, 4 }).get("sample");
		float[] full = run(fp32, "latent_sample", latents, new long[] { 1, 4, 4, 4 }).get("sample");
		assertEquals(half.length, full.length);
		for (int i = 0; i < half.length; i++) {
			// the fp16 model rounds its inputs and output to fp16: within that rounding of each other
			assertEquals(half[i], full[i], 2e-3f * Math.max(1, Math.abs(full[i])), "value " + i);
		}
	}

	@Test
	void externalWeightsAreBroughtInlineUnchanged() throws Exception {
		Path unet = Path.of(getClass().getResource("/onnx/external-data-unet/model.onnx").toURI());
		Path copy = dir.resolve("unet.onnx");
		Fp32Model.write(unet, copy); // written elsewhere: only works if the weights are now inside it
		Map<String, float[]> a = run(unet, null, null, null), b = run(copy, null, null, null);
		assertEquals(a.keySet(), b.keySet());
		for (String k : a.keySet()) assertEquals(java.util.Arrays.toString(a.get(k)), java.util.Arrays.toString(b.get(k)));
	}

	@Test
	void fp16ModelsAreRecognised() {
		assertTrue(Fp32Model.hasFp16(OVERFLOW), "fp16 constants and casts");
		assertTrue(Fp32Model.hasFp16(FP16_DECODER), "fp16 weights");
		assertFalse(Fp32Model.hasFp16(EmbeddedModel.path().resolve("vae_decoder/model.onnx")));
	}

	/**
	 * One call of {@code model}: {@code values} for {@code input}, every other input (or all, when {@code input} is
	 * null) a small ramp over its declared shape with dynamic axes set to 1 (2 for the last two, 77 × width for text).
	 */
	private static Map<String, float[]> run(Path model, String input, float[] values, long[] shape) throws OrtException {
		Map<String, OnnxTensor> in = new LinkedHashMap<>();
		Map<String, float[]> out = new LinkedHashMap<>();
		try (OrtSession s = OnnxEnvironment.get().createSession(model.toString(), new OrtSession.SessionOptions())) {
			for (Map.Entry<String, NodeInfo> e : s.getInputInfo().entrySet()) {
				OnnxJavaType type = Tensors.elementType(e.getValue());
				if (e.getKey().equals(input)) {
					in.put(e.getKey(), Tensors.create(type, values, shape));
					continue;
				}
				long[] dims = Tensors.shape(e.getValue()).clone();
				for (int i = 0; i < dims.length; i++) if (dims[i] <= 0) dims[i] = i == 0 ? 1 : i == 1 && dims.length == 3 ? 77 : 2;
				int n = 1;
				for (long d : dims) n *= (int) d;
				float[] ramp = new float[n];
				for (int i = 0; i < n; i++) ramp[i] = (i % 17) / 17f;
				in.put(e.getKey(), Tensors.create(type, ramp, dims));
			}
			try (OrtSession.Result r = s.run(in)) {
				r.forEach(e -> out.put(e.getKey(), Tensors.toFloats(e.getValue())));
			}
		}
		finally {
			in.values().forEach(OnnxTensor::close);
		}
		return out;
	}
}
