package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import sc.fiji.sd.model.OnnxComponent;
import sc.fiji.sd.onnx.CfgMode;
import sc.fiji.sd.onnx.Tensors;
import sc.fiji.sd.pipeline.UnetBatch.Half;

/**
 * Extra UNet inputs plug in without the loop knowing them: a registered {@link UnetInput} is made once per batch, asked
 * before every UNet call with the call's CFG halves, its tensors reach the UNet, and it is closed with its batch. LCM's
 * {@code timestep_cond} is one of them.
 */
class UnetInputTest {

	/** Records what it is asked and adds nothing. */
	static final class Recorder implements UnetInput {
		final List<UnetCall> calls = new ArrayList<>();
		int closed;

		@Override
		public Map<String, OnnxTensor> inputsFor(UnetCall call) {
			assertTrue(call.inputs().containsKey("sample") && call.inputs().containsKey("timestep")
				&& call.inputs().containsKey("encoder_hidden_states"), call.inputs().keySet().toString());
			calls.add(call);
			return Map.of();
		}

		@Override
		public void close() {
			closed++;
		}
	}

	private static GenerationRequest.Builder request() {
		return GenerationRequest.builder().prompt("a red circle").negativePrompt("blurry").steps(3).guidance(7).seed(3)
			.size(32, 32).scheduler("Euler");
	}

	private static List<Recorder> run(CfgMode mode, GenerationRequest request) {
		StableDiffusionPipeline p = new StableDiffusionPipeline(TestModels.model("embedded"));
		p.setCfgMode(mode);
		List<Recorder> made = new ArrayList<>();
		p.addUnetInput(batch -> {
			assertEquals(request.batchSize(), batch.images());
			Recorder r = new Recorder();
			made.add(r);
			return r;
		});
		p.generate(request, null);
		return made;
	}

	@Test
	void anInputIsAskedBeforeEveryCallWithItsHalvesAndClosedWithItsBatch() {
		List<Recorder> batched = run(CfgMode.BATCHED, request().batchSize(2).batchCount(2).build());
		assertEquals(2, batched.size(), "one per batch");
		for (Recorder r : batched) {
			assertEquals(1, r.closed);
			assertEquals(3, r.calls.size(), "one call per step");
			for (var c : r.calls) assertEquals(List.of(Half.NEGATIVE, Half.PROMPT), c.halves());
			assertEquals(2 * 4 * 4 * 4, r.calls.get(0).latentInput().length, "two images' 4 × 4 × 4 latents");
		}
		assertTrue(batched.get(0).calls.get(0).timestep() > batched.get(0).calls.get(2).timestep(), "timesteps descend");

		Recorder separate = run(CfgMode.SEPARATE, request().build()).get(0);
		assertEquals(6, separate.calls.size(), "two calls per step");
		assertEquals(List.of(Half.NEGATIVE), separate.calls.get(0).halves());
		assertEquals(List.of(Half.PROMPT), separate.calls.get(1).halves());
		assertEquals(1, separate.calls.get(1).call());
		assertEquals(separate.calls.get(0).step(), separate.calls.get(1).step());

		Recorder noCfg = run(CfgMode.BATCHED, request().guidance(1).build()).get(0);
		assertEquals(3, noCfg.calls.size());
		assertEquals(List.of(Half.PROMPT), noCfg.calls.get(0).halves());
	}

	@Test
	void lcmTimestepCondReachesTheUnetAsAnInputAndOnlyForLcm() throws Exception {
		var lcm = TestModels.model("lcm");
		StableDiffusionPipeline p = new StableDiffusionPipeline(lcm);
		List<float[]> seen = new ArrayList<>();
		OnnxComponent unet = lcm.unet();
		unet.setCallListener((component, inputs, result, nanos, released) -> {
			OnnxTensorLike t = inputs.get(LcmTimestepCond.INPUT);
			seen.add(Tensors.toFloats((OnnxTensor) t));
		});
		try {
			p.generate(request().scheduler(null).guidance(8.5).batchSize(2).build(), null);
		}
		finally {
			unet.setCallListener(null);
		}
		assertEquals(3, seen.size());
		float[] one = LcmTimestepCond.guidanceEmbedding(8.5, lcm.info().timestepCondDim());
		assertArrayEquals(ImageSource.repeat(one, 2), seen.get(0), "the guidance embedding, once per image");

		var embedded = TestModels.model("embedded");
		assertNull(LcmTimestepCond.create(UnetBatch.of(embedded, request().build(), Plan.of(request().build(),
			embedded.info()), false)), "a UNet without timestep_cond gets none");
	}

	@Test
	void twoPartsSettingTheSameInputAreRefused() {
		StableDiffusionPipeline p = new StableDiffusionPipeline(TestModels.model("lcm"));
		p.addUnetInput(LcmTimestepCond::create);
		var e = assertThrows(IllegalStateException.class, () -> p.generate(request().scheduler(null).build(), null));
		assertTrue(e.getMessage().contains("timestep_cond"), e.getMessage());
	}
}
