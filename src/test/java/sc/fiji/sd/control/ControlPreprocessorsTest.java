package sc.fiji.sd.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.img.basictypeaccess.array.FloatArray;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.StableDiffusionException;

class ControlPreprocessorsTest {

	private static final int W = 16, H = 16;

	/** A W × H × 3 image: value v on the square [from, to)², 0 elsewhere (R = G = B). */
	private static ArrayImg<FloatType, FloatArray> square(int from, int to, float v) {
		float[] d = new float[3 * W * H];
		for (int c = 0; c < 3; c++)
			for (int y = from; y < to; y++)
				for (int x = from; x < to; x++)
					d[c * W * H + y * W + x] = v;
		return ArrayImgs.floats(d, W, H, 3);
	}

	private static float[] data(ArrayImg<FloatType, FloatArray> img) {
		return img.update(null).getCurrentStorageArray();
	}

	/** Plane 0 (red) of an X × Y × 3 result. */
	private static float[] red(ArrayImg<FloatType, FloatArray> img) {
		return java.util.Arrays.copyOf(data(img), W * H);
	}

	private static ArrayImg<FloatType, FloatArray> run(String name, ArrayImg<FloatType, FloatArray> in) {
		return ControlPreprocessors.get(name).apply(in, ControlOptions.DEFAULTS);
	}

	@Test
	void registryListsTheFiveInDialogOrder() {
		assertEquals(List.of("none", "canny", "invert", "mask", "scribble_xdog"), ControlPreprocessors.names());
		assertEquals("scribble_xdog", ControlPreprocessors.get("scribble").name(), "the issue's short name");
		assertEquals("canny", ControlPreprocessors.get(" Canny ").name());
		var e = assertThrows(StableDiffusionException.class, () -> ControlPreprocessors.get("sobel"));
		assertTrue(e.getMessage().contains("\"sobel\"") && e.getMessage().contains("none, canny, invert, mask, "
			+ "scribble_xdog"), e.getMessage());
	}

	/**
	 * A white 8 × 8 square on black: its edges are its outline. By hand, in row 7 (no vertical gradient): grey 0/255,
	 * blurred [1 4 6 4 1]/16 and rounded, columns 2…5 are 16, 80, 175, 239; Sobel gx at 3 and at 4 is 4·159 = 636 (a
	 * tie, above the high threshold 200), at 2 and 5 it is 4·80 = 320: non-maximum suppression keeps column 3 (strictly
	 * above its left neighbour, not below its right one) and, mirrored, column 11. Every edge pixel lies on the
	 * boundary (one of the two pixels either side of it) and every side is found.
	 */
	@Test
	void squareEdgesAreItsOutline() {
		float[] e = red(run("canny", square(4, 12, 1)));
		int[] row7 = java.util.stream.IntStream.range(0, W).filter(x -> e[7 * W + x] == 1).toArray();
		assertArrayEquals(new int[] { 3, 11 }, row7);
		for (int y = 0; y < H; y++)
			for (int x = 0; x < W; x++) {
				float v = e[y * W + x];
				assertTrue(v == 0 || v == 1, "white on black");
				boolean onBoundary = x >= 3 && x <= 12 && y >= 3 && y <= 12
					&& (x == 3 || x == 4 || x == 11 || x == 12 || y == 3 || y == 4 || y == 11 || y == 12);
				if (v == 1) assertTrue(onBoundary, "edge pixel off the outline at " + x + "," + y);
			}
		for (int i = 5; i <= 10; i++) { // each side, away from the corners: exactly one pixel across the edge
			assertEquals(1, (int) (e[i * W + 3] + e[i * W + 4]), "left side, row " + i);
			assertEquals(1, (int) (e[i * W + 11] + e[i * W + 12]), "right side, row " + i);
			assertEquals(1, (int) (e[3 * W + i] + e[4 * W + i]), "top side, column " + i);
			assertEquals(1, (int) (e[11 * W + i] + e[12 * W + i]), "bottom side, column " + i);
		}
	}

	@Test
	void thresholdsDecideWhatAFaintEdgeIs() {
		// Contrast 0.1 → grey 25.5 → 26: the same arithmetic as above gives at most about 4·16 = 64 < 100.
		float[] faint = red(run("canny", square(4, 12, 0.1f)));
		assertEquals(0, sum(faint), "below the default low threshold 100: no edges");
		float[] low = red(ControlPreprocessors.get("canny").apply(square(4, 12, 0.1f), new ControlOptions(20, 40)));
		assertEquals(1, low[7 * W + 3]);
		assertEquals(1, low[7 * W + 11]);
		assertEquals(0, red(run("canny", square(0, 0, 0)))[0], "flat black: nothing");
		assertEquals(0, sum(red(run("canny", square(0, 16, 1)))), "flat white: nothing, not even at the border");
	}

	@Test
	void hysteresisKeepsWeakEdgesOnlyWhenConnectedToStrongOnes() {
		// One row: a weak run touching a strong pixel, then a weak pixel alone (low 100, high 200).
		float[] magnitude = { 0, 150, 150, 250, 0, 0, 150, 0, 100 };
		assertArrayEquals(new float[] { 0, 1, 1, 1, 0, 0, 0, 0, 0 }, Canny.hysteresis(magnitude, 9, 1, 100, 200));
		// Diagonal (8-)neighbours count.
		float[] diagonal = { 250, 0, 0, 150 };
		assertArrayEquals(new float[] { 1, 0, 0, 1 }, Canny.hysteresis(diagonal, 2, 2, 100, 200));
	}

	@Test
	void nonMaximumSuppressionKeepsOnePixelOfATie() {
		float[] gx = { 1, 3, 3, 1 }, gy = new float[4];
		assertArrayEquals(new float[] { 0, 3, 0, 0 }, Canny.thinned(gx, gy, 4, 1));
		float[] vertical = { 0, 2, 5, 2 }; // along y: a column of 4 with its maximum at y = 2
		assertArrayEquals(new float[] { 0, 0, 5, 0 }, Canny.thinned(new float[4], vertical, 1, 4));
	}

	@Test
	void badThresholdsSayWhatToType() {
		var e = assertThrows(StableDiffusionException.class, () -> ControlPreprocessors.get("canny").apply(square(4,
			12, 1), new ControlOptions(200, 100)));
		assertTrue(e.getMessage().contains("low 200 and high 100") && e.getMessage().contains("control_low=100"),
			e.getMessage());
		assertThrows(StableDiffusionException.class, () -> new ControlOptions(-1, 100).validate());
		assertThrows(StableDiffusionException.class, () -> new ControlOptions(0, 256).validate());
	}

	@Test
	void invertTwiceIsIdentityAndTheInputIsNotModified() {
		float[] d = new float[3 * W * H];
		for (int i = 0; i < d.length; i++)
			d[i] = (i % 17) / 16f; // 0, 1/16 … 1: exact in float, so 1 − (1 − v) == v
		var in = ArrayImgs.floats(d.clone(), W, H, 3);
		var once = run("invert", in);
		assertEquals(1f, data(once)[0]);
		assertEquals(0f, data(once)[16]);
		assertEquals(1 - 5 / 16f, data(once)[5]);
		assertArrayEquals(d, data(run("invert", once)));
		assertArrayEquals(d, data(in), "the source is only read");
		assertNotSame(data(in), data(run("none", in)));
		assertArrayEquals(d, data(run("none", in)), "none: as is");
	}

	@Test
	void labelImageBecomesWhiteObjectsOnBlack() {
		float[] labels = { 0, 1, 2, 3, 0, 3 };
		float[] rgb = new float[18];
		for (int c = 0; c < 3; c++)
			System.arraycopy(labels, 0, rgb, c * 6, 6);
		var out = ControlPreprocessors.get("mask").apply(ArrayImgs.floats(rgb, 6, 1, 3), ControlOptions.DEFAULTS);
		float[] expected = { 0, 1, 1, 1, 0, 1 };
		for (int c = 0; c < 3; c++)
			assertArrayEquals(expected, java.util.Arrays.copyOfRange(data(out), c * 6, c * 6 + 6), "channel " + c);
		// A colour object (pure red) is foreground too; a binary mask 0/1 stays as it is.
		var red = ControlPreprocessors.get("mask").apply(ArrayImgs.floats(new float[] { 1, 0, 0, 0, 0, 0 }, 2, 1, 3),
			ControlOptions.DEFAULTS);
		assertArrayEquals(new float[] { 1, 0, 1, 0, 1, 0 }, data(red));
	}

	/**
	 * A 1-pixel black line across white. By hand (the line is vertical, so only the x blur matters): σ 0.5 leaves
	 * 0.787 of the line's own darkness on it (narrow blur 255·0.213 ≈ 54) and 0.107 on its neighbours (≈ 228); σ 5
	 * leaves about 0.080 (≈ 235). Wide − narrow is about 181 on the line, above 32 / 2, and about 7 beside it: the
	 * scribble is exactly the line.
	 */
	@Test
	void scribbleXdogTurnsADarkStrokeIntoAWhiteLine() {
		float[] d = new float[3 * W * H];
		java.util.Arrays.fill(d, 1);
		for (int c = 0; c < 3; c++)
			for (int y = 0; y < H; y++)
				d[c * W * H + y * W + 7] = 0;
		float[] s = red(run("scribble", ArrayImgs.floats(d, W, H, 3)));
		for (int y = 0; y < H; y++)
			for (int x = 0; x < W; x++)
				assertEquals(x == 7 ? 1 : 0, s[y * W + x], "at " + x + "," + y);
		assertEquals(0, sum(red(run("scribble", square(0, 16, 1)))), "a blank sheet has no strokes");
		// A bright square on black: only the dark side of its edge (outside) can read as a stroke, never the square.
		float[] around = red(run("scribble", square(4, 12, 1)));
		for (int y = 4; y < 12; y++)
			for (int x = 4; x < 12; x++)
				assertEquals(0, around[y * W + x], "inside the bright square at " + x + "," + y);
		assertEquals(1, around[7 * W + 3], "just outside it");
	}

	@Test
	void prepareResizesMasksByNearestNeighbourToTheOutputSize() {
		float[] rgb = new float[3 * 4 * 2]; // 4 × 2, label 3 in the left half
		for (int c = 0; c < 3; c++)
			for (int y = 0; y < 2; y++)
				for (int x = 0; x < 2; x++)
					rgb[c * 8 + y * 4 + x] = 3;
		var src = ArrayImgs.floats(rgb.clone(), 4, 2, 3);
		var out = ControlPreprocessors.prepare(src, ControlPreprocessors.get("mask"), ControlOptions.DEFAULTS, 8, 4);
		assertEquals(8, out.dimension(0));
		assertEquals(4, out.dimension(1));
		float[] plane = java.util.Arrays.copyOf(data(out), 8);
		assertArrayEquals(new float[] { 1, 1, 1, 1, 0, 0, 0, 0 }, plane, "a hard edge, no half-way pixels");
		assertArrayEquals(rgb, data(src));
		var same = ControlPreprocessors.prepare(src, ControlPreprocessors.get("none"), ControlOptions.DEFAULTS, 4, 2);
		assertArrayEquals(rgb, data(same));
	}

	private static int sum(float[] a) {
		int n = 0;
		for (float v : a)
			n += v;
		return n;
	}
}
