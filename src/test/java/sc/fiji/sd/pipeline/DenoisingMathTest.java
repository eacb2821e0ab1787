package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;

import sc.fiji.sd.pipeline.GenerationRequest.Mode;

class DenoisingMathTest {

	@Test
	void noiseOfImageIComesFromSeedPlusIInNchwOrder() {
		float[] n = ImageSource.noise(7, 2, 5);
		Random first = new Random(7), second = new Random(8);
		for (int k = 0; k < 5; k++) {
			assertEquals((float) first.nextGaussian(), n[k]);
			assertEquals((float) second.nextGaussian(), n[5 + k]);
		}
		assertArrayEquals(n, ImageSource.noise(7, 2, 5));
	}

	@Test
	void classifierFreeGuidance() {
		float[] prediction = { 1, 2, /* cond: */ 3, 0 };
		float[] out = new float[2];
		UnetRunner.guide(prediction, 7.5f, out);
		assertArrayEquals(new float[] { 1 + 7.5f * 2, 2 + 7.5f * -2 }, out);
	}

	@Test
	void lcmGuidanceEmbedding() {
		float[] e = LcmTimestepCond.guidanceEmbedding(8.5, 256);
		assertEquals(256, e.length);
		double w = 7500; // (8.5 − 1) · 1000
		assertEquals(Math.sin(w), e[0], 1e-3); // frequency 1
		assertEquals(Math.cos(w), e[128], 1e-3);
		assertEquals(Math.sin(w / 10000), e[127], 1e-4); // lowest frequency 1/10000
		float[] none = LcmTimestepCond.guidanceEmbedding(1.0, 8);
		assertArrayEquals(new float[] { 0, 0, 0, 0, 1, 1, 1, 1 }, none);
		assertEquals(0f, LcmTimestepCond.guidanceEmbedding(2, 7)[6], "odd widths are zero-padded");
	}

	@Test
	void legacyInpaintingBlendKeepsTheUnmaskedLatents() {
		float[] latents = new float[8], known = new float[8];
		java.util.Arrays.fill(latents, 5);
		java.util.Arrays.fill(known, -1);
		ImageSource.blend(latents, known, new float[] { 1, 0 }, 1, 2);
		assertArrayEquals(new float[] { 5, -1, 5, -1, 5, -1, 5, -1 }, latents);
	}

	private static ImageSource.Start start(double strength, int stepsOffset) {
		Plan p = Plan.forSize(64, 64);
		p.mode = Mode.IMAGE_TO_IMAGE;
		p.steps = 20;
		p.strength = strength;
		return ImageSource.Start.of(p, stepsOffset, 1, 20);
	}

	@Test
	void imageToImageStartFollowsDiffusersOnnxFormula() {
		// initSteps = min(int(20·0.5) + 1, 20) = 11: noise to timesteps[−11] = [9], run from 20 − 11 + 1 = 10
		var s = start(0.5, 1);
		assertEquals(9, s.noiseIndex());
		assertEquals(10, s.first());
		assertFalse(s.fromPureNoise());
		var noOffset = start(0.5, 0);
		assertEquals(10, noOffset.noiseIndex());
		assertEquals(10, noOffset.first());
		assertEquals(20, start(0.0, 1).first(), "strength 0: nothing to run");
		assertEquals(20, start(0.04, 1).first(), "int(20·0.04) = 0 steps");
		assertTrue(start(1.0, 1).fromPureNoise(), "strength 1 ignores the input");
		assertEquals(0, start(1.0, 1).first());
		Plan p = Plan.forSize(64, 64);
		p.mode = Mode.INPAINT;
		p.steps = 10;
		p.strength = 0.5;
		var heun = ImageSource.Start.of(p, 0, 2, 19); // Heun: two timesteps per step but the last
		assertEquals(10, heun.first(), "5 of 10 steps left: timesteps[5·2:]");
		assertEquals(9, heun.noiseIndex());
	}
}
