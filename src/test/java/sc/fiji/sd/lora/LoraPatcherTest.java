package sc.fiji.sd.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static sc.fiji.sd.lora.TestFiles.map;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.lora.TestFiles.T;
import sc.fiji.sd.onnx.Fp16;
import sc.fiji.sd.onnx.OnnxGraph;

/**
 * Patched weights against W + weight · (alpha / rank) · up · down computed plainly in double: convolution LoRA (3×3 and
 * 1×1), a transposed MatMul, sizes across the kernel's column blocks, fp16 LoRA files, fp16 model weights, and two
 * LoRAs on one weight.
 */
class LoraPatcherTest {

	@TempDir
	Path tmp;

	private final Random random = new Random(3);

	@Test
	void convolutionAndTransposedMatMulWeightsGetTheScaledProduct() throws IOException {
		int out = 5, in = 3, rank = 3, wide = LowRankUpdate.BLOCK + 9;
		T conv3 = random(out, in, 3, 3), conv1 = random(out, in, 1, 1), matmul = random(wide, out); // [in, out]
		Path onnx = tmp.resolve("unet.onnx");
		TestFiles.onnx(onnx, new String[][] { { "/down_blocks.0/resnets.0/conv1/Conv", "Conv", "y1", "x", "c3.weight" },
			{ "/down_blocks.0/resnets.0/conv_shortcut/Conv", "Conv", "y2", "x", "c1.weight" },
			{ "/mid_block/attentions.0/proj_in/MatMul", "MatMul", "y3", "x", "onnx::MatMul_1" } },
			map("c3.weight", conv3, "c1.weight", conv1, "onnx::MatMul_1", matmul));
		T down3 = random(rank, in, 3, 3), up3 = random(out, rank, 1, 1), down1 = random(rank, in, 1, 1),
			up1 = random(out, rank, 1, 1), downM = random(rank, wide), upM = random(out, rank);
		Path lora = tmp.resolve("locon.safetensors");
		TestFiles.safetensors(lora, map("lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight", down3,
			"lora_unet_down_blocks_0_resnets_0_conv1.lora_up.weight", up3,
			"lora_unet_down_blocks_0_resnets_0_conv1.alpha", T.of(new float[] { 1.5f }),
			"lora_unet_down_blocks_0_resnets_0_conv_shortcut.lora_down.weight", down1,
			"lora_unet_down_blocks_0_resnets_0_conv_shortcut.lora_up.weight", up1,
			"lora_unet_mid_block_attentions_0_proj_in.lora_down.weight", downM,
			"lora_unet_mid_block_attentions_0_proj_in.lora_up.weight", upM), true);
		var result = LoraPatcher.patch(OnnxGraph.read(onnx), "unet",
			List.of(new LoraPatcher.Weighted(Lora.read(lora), 0.7)));
		assertEquals(3, result.matched());
		assertClose(expected(conv3, false, 0.7 * 1.5 / rank, up3, down3), result.patched().get("c3.weight").floats());
		assertClose(expected(conv1, false, 0.7, up1, down1), result.patched().get("c1.weight").floats());
		assertClose(expected(matmul, true, 0.7, upM, downM), result.patched().get("onnx::MatMul_1").floats());
	}

	@Test
	void twoLorasOnAnFp16WeightArePatchedInFp32AndRoundedOnce() throws IOException {
		int out = 6, in = 7;
		float[] base = random(in, out).values();
		for (int i = 0; i < base.length; i++) base[i] = Fp16.toFloat(Fp16.fromFloat(base[i]));
		Path onnx = tmp.resolve("fp16.onnx");
		TestFiles.onnx(onnx, new String[][] { { "/w_cast", "Cast", "w", "mid_fp16" },
			{ "/mid_block/attentions.0/proj/MatMul", "MatMul", "y", "x", "w" } }, map("mid_fp16", T.of(base, in, out)));
		String key = "lora_unet_mid_block_attentions_0_proj";
		T downA = random(2, in), upA = random(out, 2), downB = random(5, in), upB = random(out, 5);
		Path a = tmp.resolve("a.safetensors"), b = tmp.resolve("b.safetensors");
		TestFiles.safetensors(a, map(key + ".lora_down.weight", downA, key + ".lora_up.weight", upA));
		TestFiles.safetensors(b, map(key + ".lora_down.weight", downB, key + ".lora_up.weight", upB));
		var patched = LoraPatcher.patch(OnnxGraph.read(onnx), "unet", List.of(new LoraPatcher.Weighted(Lora.read(a),
			0.5), new LoraPatcher.Weighted(Lora.read(b), -1.25))).patched().get("mid_fp16");
		assertEquals(base.length * 2, patched.data().capacity(), "kept in fp16: no fp32 copy is handed on");
		float[] both = expected(T.of(expected(T.of(base, in, out), true, 0.5, upA, downA), in, out), true, -1.25, upB,
			downB);
		float[] got = patched.floats();
		for (int i = 0; i < both.length; i++) {
			assertEquals(Fp16.fromFloat(both[i]), Fp16.fromFloat(got[i]), "element " + i + ": rounded to fp16 once");
		}
	}

	@Test
	void factorArraysReusedFromALargerModuleGiveTheSameProduct() throws IOException {
		Path lora = tmp.resolve("two.safetensors");
		TestFiles.safetensors(lora, map("lora_unet_big.lora_down.weight", random(6, 40),
			"lora_unet_big.lora_up.weight", random(30, 6), "lora_unet_small.lora_down.weight", random(2, 7),
			"lora_unet_small.lora_up.weight", random(3, 2)), true);
		List<Lora.Module> modules = Lora.read(lora).modules("unet");
		Lora.Module big = modules.get(0), small = modules.get(1);
		assertEquals("small", small.key());
		for (boolean transposed : new boolean[] { false, true }) {
			LoraFactors reused = new LoraFactors();
			reused.product(big, transposed, 0.3);
			reused.clear();
			LowRankUpdate.Product again = reused.product(small, transposed, 0.3);
			LowRankUpdate.Product fresh = new LoraFactors().product(small, transposed, 0.3);
			int rows = transposed ? 7 : 3, columns = transposed ? 3 : 7;
			assertEquals(2, again.rank());
			org.junit.jupiter.api.Assertions.assertArrayEquals(java.util.Arrays.copyOf(fresh.coef(), rows * 2),
				java.util.Arrays.copyOf(again.coef(), rows * 2));
			for (int r = 0; r < 2; r++) {
				org.junit.jupiter.api.Assertions.assertArrayEquals(java.util.Arrays.copyOf(fresh.basis()[r], columns),
					java.util.Arrays.copyOf(again.basis()[r], columns));
			}
		}
	}

	/** base + scale · up · down in double, for a weight stored [out, in…] or transposed [in, out]. */
	private static float[] expected(T base, boolean transposed, double scale, T up, T down) {
		int out = (int) up.shape()[0], rank = (int) up.shape()[1], in = down.values().length / rank;
		float[] w = base.values().clone();
		for (int o = 0; o < out; o++) {
			for (int i = 0; i < in; i++) {
				double d = 0;
				for (int r = 0; r < rank; r++) d += (double) half(up.values()[o * rank + r]) * half(down.values()[r * in + i]);
				int at = transposed ? i * out + o : o * in + i;
				w[at] = (float) (w[at] + scale * d);
			}
		}
		return w;
	}

	/** The value as an F16 LoRA file stores it (also exact for the F32 files: their values are fp16 values). */
	private static float half(float v) {
		return Fp16.toFloat(Fp16.fromFloat(v));
	}

	private static void assertClose(float[] expected, float[] got) {
		assertEquals(expected.length, got.length);
		for (int i = 0; i < got.length; i++) assertEquals(expected[i], got[i], 1e-5 * (1 + Math.abs(expected[i])), "element " + i);
	}

	/** Values that fp16 holds exactly, so F16 and F32 LoRA files mean the same. */
	private T random(long... shape) {
		long n = 1;
		for (long d : shape) n *= d;
		float[] a = new float[(int) n];
		for (int i = 0; i < a.length; i++) a[i] = half((float) random.nextGaussian() * 0.5f);
		return T.of(a, shape);
	}
}
