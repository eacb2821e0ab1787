package sc.fiji.sd.quality;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import net.imglib2.RandomAccess;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.type.numeric.real.FloatType;

/**
 * A simple, explainable image check for the embedded model's caption grammar
 * ({@code a {color} {shape} on a {color} background}); the same rules as {@code tools/model/evaluate.py}:
 * <ul>
 * <li>background = nearest palette colour of the median border pixel (2-pixel frame);</li>
 * <li>object = the largest 4-connected region of pixels whose nearest palette colour is not the background's;
 * a region under 2 % of the image counts as no object;</li>
 * <li>object colour = nearest palette colour of the region's median pixel;</li>
 * <li>shape from the region's fill ratio of its bounding box: square ≥ 0.9 &gt; circle ≥ 0.64 &gt; triangle
 * (axis-aligned square 1.0, circle π/4, upright triangle with base = height 0.5);</li>
 * <li>hole = the fraction of the image whose pixels are not the object's and not connected to the border (a ring's
 * hole; 0 for the data set's shapes).</li>
 * </ul>
 */
final class ShapeCheck {

	/** What the check saw; colour and shape are null when there is no object. */
	record Seen(String background, String color, String shape, double centreX, double centreY, int size, double hole) {}

	private final List<String> names;
	private final float[][] palette; // RGB 0..255

	ShapeCheck(Map<String, int[]> colors) {
		names = new ArrayList<>(colors.keySet());
		palette = new float[names.size()][];
		for (int i = 0; i < names.size(); i++) {
			int[] c = colors.get(names.get(i));
			palette[i] = new float[] { c[0], c[1], c[2] };
		}
	}

	/** @param rgb X × Y × 3 in [0, 1] */
	Seen classify(RandomAccessibleInterval<FloatType> rgb) {
		int w = (int) rgb.dimension(0), h = (int) rgb.dimension(1);
		float[][] px = pixels(rgb);
		int background = nearest(median(border(px, w, h)));

		boolean[] foreground = new boolean[w * h];
		for (int i = 0; i < w * h; i++) foreground[i] = nearest(px[i]) != background;
		int[] region = largestComponent(foreground, w, h);
		if (region.length < 0.02 * w * h) return new Seen(names.get(background), null, null, Double.NaN, Double.NaN, 0, 0);

		List<float[]> inside = new ArrayList<>();
		int minX = w, maxX = -1, minY = h, maxY = -1;
		double sx = 0, sy = 0;
		for (int i : region) {
			inside.add(px[i]);
			int x = i % w, y = i / w;
			minX = Math.min(minX, x); maxX = Math.max(maxX, x);
			minY = Math.min(minY, y); maxY = Math.max(maxY, y);
			sx += x; sy += y;
		}
		int bw = maxX - minX + 1, bh = maxY - minY + 1;
		double fill = region.length / (double) (bw * bh);
		String shape = fill >= 0.9 ? "square" : fill >= 0.64 ? "circle" : "triangle";
		return new Seen(names.get(background), names.get(nearest(median(inside))), shape, sx / region.length,
			sy / region.length, Math.max(bw, bh), enclosed(region, w, h) / (double) (w * h));
	}

	/** The pixels as RGB 0..255 (rounded, as an 8-bit image stores them), index y·w + x. */
	static float[][] pixels(RandomAccessibleInterval<FloatType> rgb) {
		int w = (int) rgb.dimension(0), h = (int) rgb.dimension(1);
		float[][] px = new float[w * h][3];
		RandomAccess<FloatType> ra = rgb.randomAccess();
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++)
				for (int c = 0; c < 3; c++)
					px[y * w + x][c] = Math.round(Math.min(1, Math.max(0, ra.setPositionAndGet(x, y, c).get())) * 255);
		return px;
	}

	/** The pixels of the 2-pixel border, whose median is the background colour. */
	static List<float[]> border(float[][] px, int w, int h) {
		List<float[]> border = new ArrayList<>();
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++)
				if (x < 2 || y < 2 || x >= w - 2 || y >= h - 2) border.add(px[y * w + x]);
		return border;
	}

	/** The palette colour nearest {@code rgb} (0..255). */
	String nearestName(float[] rgb) {
		return names.get(nearest(rgb));
	}

	/** Pixels outside {@code region} that cannot reach the image border through other pixels outside it. */
	private static int enclosed(int[] region, int w, int h) {
		boolean[] blocked = new boolean[w * h];
		for (int i : region) blocked[i] = true;
		ArrayDeque<Integer> stack = new ArrayDeque<>();
		for (int i = 0; i < w * h; i++) {
			int x = i % w, y = i / w;
			if ((x == 0 || y == 0 || x == w - 1 || y == h - 1) && !blocked[i]) {
				blocked[i] = true;
				stack.push(i);
			}
		}
		int reached = stack.size();
		while (!stack.isEmpty()) {
			int i = stack.pop();
			int x = i % w, y = i / w;
			int[] neighbours = { x + 1 < w ? i + 1 : -1, x > 0 ? i - 1 : -1, y + 1 < h ? i + w : -1, y > 0 ? i - w : -1 };
			for (int j : neighbours) {
				if (j >= 0 && !blocked[j]) {
					blocked[j] = true;
					reached++;
					stack.push(j);
				}
			}
		}
		return w * h - region.length - reached;
	}

	private int nearest(float[] rgb) {
		int best = 0;
		double bestD = Double.MAX_VALUE;
		for (int k = 0; k < palette.length; k++) {
			double d = 0;
			for (int c = 0; c < 3; c++) d += (rgb[c] - palette[k][c]) * (rgb[c] - palette[k][c]);
			if (d < bestD) { bestD = d; best = k; }
		}
		return best;
	}

	/** Per-channel median (numpy's: the mean of the two middle values for an even count). */
	static float[] median(List<float[]> pixels) {
		float[] out = new float[3];
		float[] v = new float[pixels.size()];
		for (int c = 0; c < 3; c++) {
			for (int i = 0; i < v.length; i++) v[i] = pixels.get(i)[c];
			Arrays.sort(v);
			int n = v.length;
			out[c] = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
		}
		return out;
	}

	/** Indices (y·w + x) of the largest 4-connected true region. */
	private static int[] largestComponent(boolean[] mask, int w, int h) {
		boolean[] seen = new boolean[mask.length];
		int[] best = new int[0];
		ArrayDeque<Integer> stack = new ArrayDeque<>();
		for (int start = 0; start < mask.length; start++) {
			if (!mask[start] || seen[start]) continue;
			List<Integer> component = new ArrayList<>();
			seen[start] = true;
			stack.push(start);
			while (!stack.isEmpty()) {
				int i = stack.pop();
				component.add(i);
				int x = i % w, y = i / w;
				int[] neighbours = { x + 1 < w ? i + 1 : -1, x > 0 ? i - 1 : -1, y + 1 < h ? i + w : -1, y > 0 ? i - w : -1 };
				for (int j : neighbours) {
					if (j >= 0 && mask[j] && !seen[j]) {
						seen[j] = true;
						stack.push(j);
					}
				}
			}
			if (component.size() > best.length) best = component.stream().mapToInt(Integer::intValue).toArray();
		}
		return best;
	}
}
