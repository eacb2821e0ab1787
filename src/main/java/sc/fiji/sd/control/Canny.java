package sc.fiji.sd.control;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.basictypeaccess.array.FloatArray;
import net.imglib2.type.numeric.real.FloatType;

/**
 * Canny edges, white (1) on black (0), one pixel wide: whole grey levels (0–255, as an 8-bit image), a 5-tap binomial blur (about a Gaussian of
 * σ 1, against noise), 3 × 3 Sobel gradients with OpenCV's L1 magnitude |gx| + |gy| (so OpenCV's and A1111's
 * thresholds mean the same here), non-maximum suppression along the gradient direction in four sectors, and
 * hysteresis: a pixel above {@code high} is an edge, one above {@code low} is an edge when 8-connected to one.
 */
final class Canny extends NamedPreprocessor {

	static final String NAME = "canny";
	private static final float[] BINOMIAL = { 1 / 16f, 4 / 16f, 6 / 16f, 4 / 16f, 1 / 16f };
	/** tan 22.5° and tan 67.5°: the borders of the horizontal, diagonal and vertical sectors. */
	private static final double TAN_22_5 = Math.tan(Math.toRadians(22.5)), TAN_67_5 = Math.tan(Math.toRadians(67.5));

	Canny() {
		super(NAME, "edges (white on black), thresholds control_low and control_high");
	}

	@Override
	public ArrayImg<FloatType, FloatArray> apply(RandomAccessibleInterval<FloatType> rgb, ControlOptions options) {
		options.validate();
		int w = (int) rgb.dimension(0), h = (int) rgb.dimension(1);
		float[] grey = rounded(ControlMaps.blur(rounded(ControlMaps.luma255(ControlMaps.planes(rgb))), w, h, BINOMIAL));
		float[][] g = sobel(grey, w, h);
		float[] edges = hysteresis(thinned(g[0], g[1], w, h), w, h, options.low(), options.high());
		return ControlMaps.grey(edges, w, h);
	}

	/**
	 * Whole grey levels, as OpenCV's 8-bit images hold: the gradients are then exact integers, so the two pixels on
	 * either side of a step edge tie exactly and the tie rule of {@link #thinned} (not rounding noise) picks one.
	 */
	private static float[] rounded(float[] p) {
		for (int i = 0; i < p.length; i++)
			p[i] = Math.round(p[i]);
		return p;
	}

	/** The 3 × 3 Sobel derivatives {gx, gy} (x to the right, y downwards), edge pixels repeated. */
	static float[][] sobel(float[] p, int w, int h) {
		float[] gx = new float[w * h], gy = new float[w * h];
		for (int y = 0; y < h; y++) {
			int up = ControlMaps.clamp(y - 1, h) * w, mid = y * w, down = ControlMaps.clamp(y + 1, h) * w;
			for (int x = 0; x < w; x++) {
				int l = ControlMaps.clamp(x - 1, w), r = ControlMaps.clamp(x + 1, w);
				gx[mid + x] = p[up + r] + 2 * p[mid + r] + p[down + r] - p[up + l] - 2 * p[mid + l] - p[down + l];
				gy[mid + x] = p[down + l] + 2 * p[down + x] + p[down + r] - p[up + l] - 2 * p[up + x] - p[up + r];
			}
		}
		return new float[][] { gx, gy };
	}

	/**
	 * Non-maximum suppression: the L1 magnitude where it is a maximum across the edge, else 0. A pixel is kept when
	 * it is strictly above its neighbour before it (left, above) and not below the one after it, so a ridge two pixels
	 * wide (a step edge exactly between two pixels) keeps exactly one of them.
	 */
	static float[] thinned(float[] gx, float[] gy, int w, int h) {
		float[] m = new float[w * h], out = new float[w * h];
		for (int i = 0; i < m.length; i++)
			m[i] = Math.abs(gx[i]) + Math.abs(gy[i]);
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) {
				int i = y * w + x;
				if (m[i] == 0) continue;
				double ax = Math.abs(gx[i]), ay = Math.abs(gy[i]);
				int dx, dy; // the neighbour "after" along the gradient; the one "before" is its mirror
				if (ay <= ax * TAN_22_5) { dx = 1; dy = 0; }
				else if (ay >= ax * TAN_67_5) { dx = 0; dy = 1; }
				else if ((gx[i] > 0) == (gy[i] > 0)) { dx = 1; dy = 1; }
				else { dx = -1; dy = 1; }
				float before = at(m, w, h, x - dx, y - dy), after = at(m, w, h, x + dx, y + dy);
				if (m[i] > before && m[i] >= after) out[i] = m[i];
			}
		return out;
	}

	private static float at(float[] m, int w, int h, int x, int y) {
		return x < 0 || y < 0 || x >= w || y >= h ? 0 : m[y * w + x];
	}

	/** 1 where the magnitude is above high, or above low and 8-connected through such pixels to one above high. */
	static float[] hysteresis(float[] magnitude, int w, int h, double low, double high) {
		float[] edges = new float[w * h];
		int[] todo = new int[w * h];
		int n = 0;
		for (int i = 0; i < edges.length; i++)
			if (magnitude[i] > high) {
				edges[i] = 1;
				todo[n++] = i;
			}
		while (n > 0) {
			int i = todo[--n], x = i % w, y = i / w;
			for (int dy = -1; dy <= 1; dy++)
				for (int dx = -1; dx <= 1; dx++) {
					int nx = x + dx, ny = y + dy;
					if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
					int j = ny * w + nx;
					if (edges[j] == 0 && magnitude[j] > low) {
						edges[j] = 1;
						todo[n++] = j;
					}
				}
		}
		return edges;
	}
}
