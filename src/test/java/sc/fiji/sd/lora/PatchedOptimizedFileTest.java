package sc.fiji.sd.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import sc.fiji.sd.pipeline.TestModels;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.ExecutionProviders.SessionMemory;
import sc.fiji.sd.onnx.OnnxEnvironment;
import sc.fiji.sd.onnx.RuntimeOptions;
import sc.fiji.sd.onnx.SessionFactory;

/**
 * A LoRA-patched session opens the optimised file kept from the first load, with the patched weights in place of
 * theirs, when the optimiser left those weights as they were (MatMul and Gemm weights): it then maps the other
 * weights as a plain session does instead of optimising a second copy in memory. Its output must equal the patched
 * original's optimised in memory, and weights the optimiser re-laid out (NCHWc convolutions) must send it back to
 * that path.
 */
class PatchedOptimizedFileTest {

	@TempDir
	Path tmp;

	@Test
	void textEncoderPatchedOnTheKeptFileEqualsThePatchedOriginal() throws IOException, OrtException {
		Path base = tmp.resolve("base");
		TestModels.copyTree(LoraReferenceTest.FIXTURE.resolve("base"), base);
		Path file = base.resolve("text_encoder/model.onnx");
		RuntimeOptions cpu = RuntimeOptions.DEFAULTS.withDevice(Device.CPU);
		SessionFactory kept = new SessionFactory(cpu.withOptimizedModels(tmp.resolve("optimized")));
		SessionFactory inMemory = new SessionFactory(cpu.withOptimizedModels(null));
		try (LoraSet set = new LoraSet(new LoraSpec(List.of(new LoraSpec.Entry(LoraReferenceTest.FIXTURE.resolve(
			"kohya.safetensors"), 1)))))
		{
			Map<String, OnnxTensorLike> patch = set.forComponent("text_encoder", file);
			assertFalse(patch.isEmpty());
			float[] plain, onKept, reference;
			try (OrtSession s = kept.open(file, SessionMemory.ARENA)) {
				plain = hiddenStates(s);
			}
			try (OrtSession s = kept.open(file, SessionMemory.ARENA, patch)) {
				onKept = hiddenStates(s);
			}
			assertEquals(java.util.Set.of("text_encoder"), kept.patchedOnKeptFile(), "the patched session must have "
				+ "opened the optimised file written for the plain one");
			try (OrtSession s = inMemory.open(file, SessionMemory.ARENA, patch)) {
				reference = hiddenStates(s);
			}
			assertTrue(inMemory.patchedOnKeptFile().isEmpty());
			assertTrue(maxDifference(plain, reference) > 1e-2, "the LoRA must change the text encoder's output");
			double d = maxDifference(onKept, reference);
			assertTrue(d < 1e-4, "patched on the kept file differs from the patched original by " + d);
		}
	}

	@Test
	void convolutionWeightsTheOptimiserReLaidOutSendItBackToTheOriginal() throws IOException, OrtException {
		Path base = tmp.resolve("base");
		TestModels.copyTree(LoraReferenceTest.FIXTURE.resolve("base"), base);
		Path file = base.resolve("unet/model.onnx");
		SessionFactory kept = new SessionFactory(RuntimeOptions.DEFAULTS.withDevice(Device.CPU).withOptimizedModels(
			tmp.resolve("optimized")));
		try (LoraSet set = new LoraSet(new LoraSpec(List.of(new LoraSpec.Entry(LoraReferenceTest.FIXTURE.resolve(
			"kohya.safetensors"), 1)))))
		{
			Map<String, OnnxTensorLike> patch = set.forComponent("unet", file);
			try (OrtSession s = kept.open(file, SessionMemory.ARENA)) {
				assertFalse(s.getInputNames().isEmpty());
			}
			try (OrtSession s = kept.open(file, SessionMemory.ARENA, patch)) {
				assertFalse(s.getInputNames().isEmpty());
			}
			assertTrue(kept.patchedOnKeptFile().isEmpty(), "the fixture's LoRA patches Conv weights, which the "
				+ "optimiser renames: the kept file must not be used");
		}
	}

	/** The text encoder's first output for one fixed prompt's token ids. */
	private static float[] hiddenStates(OrtSession s) throws OrtException {
		Map.Entry<String, NodeInfo> in = s.getInputInfo().entrySet().iterator().next();
		OnnxJavaType type = ((TensorInfo) in.getValue().getInfo()).type;
		long[] ids = new long[77];
		long[] prompt = { 49406, 320, 736, 2151, 49407 };
		java.util.Arrays.fill(ids, 49407);
		System.arraycopy(prompt, 0, ids, 0, prompt.length);
		Object data = type == OnnxJavaType.INT32 ? new int[][] { java.util.Arrays.stream(ids).mapToInt(v -> (int) v)
			.toArray() } : new long[][] { ids };
		try (OnnxTensor t = OnnxTensor.createTensor(OnnxEnvironment.get(), data); OrtSession.Result r = s.run(Map.of(
			in.getKey(), t)))
		{
			float[][][] h = (float[][][]) r.get(0).getValue();
			float[] flat = new float[h[0].length * h[0][0].length];
			for (int i = 0; i < h[0].length; i++)
				System.arraycopy(h[0][i], 0, flat, i * h[0][0].length, h[0][0].length);
			return flat;
		}
	}

	private static double maxDifference(float[] a, float[] b) {
		double max = 0;
		for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
		return max;
	}
}
