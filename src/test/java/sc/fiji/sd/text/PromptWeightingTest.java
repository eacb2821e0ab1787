package sc.fiji.sd.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A1111's emphasis: z *= w per token, then z *= originalMean / newMean. */
class PromptWeightingTest {

	@Test
	void weightsTokensThenRestoresTheMean() {
		// Two tokens of width 2: [1, 2] and [3, 4]; the second weighted 2.
		// Weighted: [1, 2, 6, 8], sum 17; original sum 10, so everything is scaled by 10/17.
		float[] hidden = { 1, 2, 3, 4 };
		float[] out = PromptWeighting.apply(hidden, 2, 2, new float[] { 1, 2 });
		assertArrayEquals(new float[] { 10f / 17, 20f / 17, 60f / 17, 80f / 17 }, out, 1e-6f);
		assertEquals(2.5, (out[0] + out[1] + out[2] + out[3]) / 4.0, 1e-6, "mean as before weighting");
		assertArrayEquals(new float[] { 1, 2, 3, 4 }, hidden, "input untouched");
	}

	@Test
	void downWeightingWorksTheSameWay() {
		// [2, 2] weighted 0.5 → [1, 1]; [4, 0] unweighted; sums 8 → 6, scale 4/3.
		float[] out = PromptWeighting.apply(new float[] { 2, 2, 4, 0 }, 2, 2, new float[] { 0.5f, 1 });
		assertArrayEquals(new float[] { 4f / 3, 4f / 3, 16f / 3, 0 }, out, 1e-6f);
	}

	@Test
	void unitWeightsChangeNothing() {
		float[] hidden = { 0.25f, -1.5f, 3f, 0.125f, 7f, -2f };
		assertArrayEquals(hidden, PromptWeighting.apply(hidden, 3, 2, new float[] { 1, 1, 1 }), 1e-6f);
	}

	@Test
	void zeroMeanAfterWeightingLeavesValuesUnscaledInsteadOfNaN() {
		float[] out = PromptWeighting.apply(new float[] { 1, -1, 2, -2 }, 2, 2, new float[] { 3, 1 });
		assertArrayEquals(new float[] { 3, -3, 2, -2 }, out);
		for (float v : out) assertTrue(Float.isFinite(v));
	}

	@Test
	void shapesAreChecked() {
		assertThrows(IllegalArgumentException.class,
			() -> PromptWeighting.apply(new float[6], 2, 2, new float[] { 1, 1 }));
		assertThrows(IllegalArgumentException.class,
			() -> PromptWeighting.apply(new float[4], 2, 2, new float[] { 1, 1, 1 }));
	}
}
