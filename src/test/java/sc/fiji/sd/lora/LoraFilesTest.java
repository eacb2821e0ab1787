package sc.fiji.sd.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static sc.fiji.sd.lora.TestFiles.map;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.lora.TestFiles.T;
import sc.fiji.sd.onnx.OnnxGraph;

/** Reading LoRA files in both layouts, matching real exporters' node names, and refusing bad input by name. */
class LoraFilesTest {

	@TempDir
	Path tmp;

	/** A graph shaped like a diffusers SD export: a transposed MatMul, a Gemm and a 3×3 Conv, 4 → 2 features. */
	private Path sdLikeGraph() throws IOException {
		Path onnx = tmp.resolve("unet.onnx");
		TestFiles.onnx(onnx, new String[][] {
			{ "/down_blocks.0/attentions.0/transformer_blocks.0/attn1/to_q/MatMul", "MatMul", "y1", "x", "onnx::MatMul_9" },
			{ "/down_blocks.0/resnets.0/conv1/Conv", "Conv", "y2", "x", "down_blocks.0.resnets.0.conv1.weight" },
			{ "/text_model/encoder/layers.0/self_attn/q_proj/MatMul", "MatMul", "y3", "x", "onnx::MatMul_3" } },
			map("onnx::MatMul_9", T.filled(1, 4, 2), "down_blocks.0.resnets.0.conv1.weight", T.filled(1, 2, 4, 3, 3),
				"onnx::MatMul_3", T.filled(1, 4, 2)));
		return onnx;
	}

	@Test
	void kohyaAndPeftKeysMatchTheSameNodes() throws IOException {
		OnnxGraph g = OnnxGraph.read(sdLikeGraph());
		Path kohya = tmp.resolve("k.safetensors"), peft = tmp.resolve("p.safetensors");
		TestFiles.safetensors(kohya, map(
			"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight", T.filled(1, 1, 4),
			"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.lora_up.weight", T.filled(1, 2, 1),
			"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q.alpha", T.of(new float[] { 0.5f }),
			"lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight", T.filled(1, 1, 4, 3, 3),
			"lora_unet_down_blocks_0_resnets_0_conv1.lora_up.weight", T.filled(1, 2, 1, 1, 1),
			"lora_unet_mid_block_attentions_0_proj_in.lora_down.weight", T.filled(1, 1, 4),
			"lora_unet_mid_block_attentions_0_proj_in.lora_up.weight", T.filled(1, 2, 1)));
		TestFiles.safetensors(peft, map(
			"unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.lora_A.weight", T.filled(1, 1, 4),
			"unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.lora_B.weight", T.filled(1, 2, 1)));
		Lora k = Lora.read(kohya), p = Lora.read(peft);
		LoraPatcher.Result rk = LoraPatcher.patch(g, "unet", List.of(new LoraPatcher.Weighted(k, 1)));
		LoraPatcher.Result rp = LoraPatcher.patch(g, "unet", List.of(new LoraPatcher.Weighted(p, 0.5)));
		assertEquals(2, rk.matched());
		assertEquals(List.of("unet:mid_block_attentions_0_proj_in"), rk.unmatched().get(k), "unmatched keys are named");
		// kohya alpha 0.5 with rank 1 at weight 1, PEFT alpha = rank at weight 0.5: the same update
		assertArrayEquals(array(rk, "onnx::MatMul_9"), array(rp, "onnx::MatMul_9"));
		float[] base = OnnxGraph.floats(g.initializers().get("onnx::MatMul_9"));
		float[] patched = array(rk, "onnx::MatMul_9");
		// ΔW[o][i] = 0.5 · up[o] · down[i]; stored transposed: [i][o]
		float[] up = T.filled(1, 2, 1).values(), down = T.filled(1, 1, 4).values();
		for (int i = 0; i < 4; i++)
			for (int o = 0; o < 2; o++) assertEquals(base[i * 2 + o] + 0.5f * up[o] * down[i], patched[i * 2 + o], 1e-6);
		assertTrue(rk.patched().containsKey("down_blocks.0.resnets.0.conv1.weight"));
	}

	@Test
	void fp16WeightsBehindACastArePatchedInFp32AndCastBack() throws IOException {
		Path onnx = tmp.resolve("fp16.onnx");
		float[] base = { 0.5f, -1, 2, 0.25f, 3, -0.75f, 1.5f, 0.125f };
		TestFiles.onnx(onnx, new String[][] { { "/w_cast", "Cast", "w", "mid_fp16" },
			{ "/mid_block/attentions.0/proj/MatMul", "MatMul", "y", "x", "w" } }, map("mid_fp16", T.of(base, 4, 2)));
		Path lora = tmp.resolve("mid.safetensors");
		float[] down = { 0.1f, 0.2f, 0.3f, 0.4f }, up = { 1, -2 };
		TestFiles.safetensors(lora, map("lora_unet_mid_block_attentions_0_proj.lora_down.weight", T.of(down, 1, 4),
			"lora_unet_mid_block_attentions_0_proj.lora_up.weight", T.of(up, 2, 1)));
		try (LoraSet set = new LoraSet(new LoraSpec(List.of(new LoraSpec.Entry(lora, 0.5))))) {
			var weights = set.forComponent("unet", onnx);
			var t = (ai.onnxruntime.OnnxTensor) weights.get("mid_fp16");
			assertEquals(ai.onnxruntime.OnnxJavaType.FLOAT16, t.getInfo().type);
			assertArrayEquals(new long[] { 4, 2 }, t.getInfo().getShape());
			var half = t.getShortBuffer();
			for (int i = 0; i < 4; i++) {
				for (int o = 0; o < 2; o++) {
					float expected = sc.fiji.sd.onnx.Fp16.toFloat(sc.fiji.sd.onnx.Fp16.fromFloat(base[i * 2 + o]))
						+ 0.5f * up[o] * down[i];
					assertEquals(sc.fiji.sd.onnx.Fp16.fromFloat(expected), half.get(i * 2 + o), "[" + i + "][" + o + "]");
				}
			}
			set.checkEveryLoraApplied();
		}
	}

	@Test
	void textEncoderKeysUseTheTextModelPath() throws IOException {
		OnnxGraph g = OnnxGraph.read(sdLikeGraph());
		Lora k = Lora.read(rankOne("te.safetensors", "lora_te_text_model_encoder_layers_0_self_attn_q_proj", 4, 2));
		assertEquals(1, k.modules("text_encoder").size());
		assertEquals(1, LoraPatcher.patch(g, "text_encoder", List.of(new LoraPatcher.Weighted(k, 1))).matched());
	}

	@Test
	void aLoraForAnotherWidthIsNamed() throws IOException {
		OnnxGraph g = OnnxGraph.read(sdLikeGraph());
		Path wide = rankOne("sdxl-style.safetensors", "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q",
			8, 8);
		var e = assertThrows(StableDiffusionException.class,
			() -> LoraPatcher.patch(g, "unet", List.of(new LoraPatcher.Weighted(Lora.read(wide), 1))));
		assertTrue(e.getMessage().contains("sdxl-style") && e.getMessage().contains("8 × 8")
			&& e.getMessage().contains("another model family"), e.getMessage());
	}

	@Test
	void badFilesAreRefusedWithAMessage() throws IOException {
		Path good = tmp.resolve("good.safetensors");
		TestFiles.safetensors(good, map("lora_unet_x.lora_down.weight", T.filled(1, 1, 4),
			"lora_unet_x.lora_up.weight", T.filled(1, 2, 1)));
		byte[] bytes = Files.readAllBytes(good);
		Path header = tmp.resolve("header.safetensors");
		Files.write(header, Arrays.copyOf(bytes, 30));
		assertMessage(header, "truncated");
		Path data = tmp.resolve("data.safetensors");
		Files.write(data, Arrays.copyOf(bytes, bytes.length - 4));
		assertMessage(data, "truncated");
		Path pickle = tmp.resolve("style.ckpt");
		Files.write(pickle, bytes);
		assertMessage(pickle, "pickle");
		assertMessage(tmp.resolve("missing.safetensors"), "does not exist");
		Path loha = tmp.resolve("loha.safetensors");
		TestFiles.safetensors(loha, map("lora_unet_x.hada_w1_a", T.filled(1, 2, 2)));
		assertMessage(loha, "LoHa");
		Path lokr = tmp.resolve("lokr.safetensors");
		TestFiles.safetensors(lokr, map("lora_unet_x.lokr_w1", T.filled(1, 2, 2)));
		assertMessage(lokr, "LoKr");
		Path embedding = tmp.resolve("ti.safetensors");
		TestFiles.safetensors(embedding, map("emb_params", T.filled(1, 1, 4)));
		assertMessage(embedding, "holds no LoRA weights");
	}

	@Test
	void weightsAreParsedFromTheCommandLineForm() {
		assertEquals(0.8, LoraSpec.parseEntry("a/style.safetensors:0.8").weight());
		assertEquals(1.0, LoraSpec.parseEntry("style.safetensors").weight());
		assertEquals(Path.of("C:/x/s.safetensors").toAbsolutePath().normalize(),
			LoraSpec.parseEntry("C:/x/s.safetensors").file());
		assertThrows(StableDiffusionException.class, () -> LoraSpec.parseEntry("style.safetensors:strong"));
	}

	/** A kohya LoRA of rank 1 on one module of {@code in} → {@code out} features. */
	private Path rankOne(String file, String key, int in, int out) throws IOException {
		Path p = tmp.resolve(file);
		TestFiles.safetensors(p, map(key + ".lora_down.weight", T.filled(1, 1, in), key + ".lora_up.weight",
			T.filled(1, out, 1)));
		return p;
	}

	private static float[] array(LoraPatcher.Result r, String initializer) {
		return r.patched().get(initializer).floats();
	}

	private static void assertMessage(Path file, String part) {
		var e = assertThrows(StableDiffusionException.class, () -> Lora.read(file));
		assertTrue(e.getMessage().contains(part), e.getMessage());
	}
}
