package sc.fiji.sd.control;

import java.util.Locale;

import sc.fiji.sd.StableDiffusionException;

/**
 * The settings of the preprocessors that have any: Canny's two thresholds, on the 0–255 scale and with the meaning
 * of OpenCV's {@code Canny(image, low, high)} (an L1 Sobel gradient magnitude), whose defaults 100 and 200 are the
 * ones AUTOMATIC1111's ControlNet extension uses.
 *
 * @param low pixels whose gradient is above it are edges when connected to a strong edge
 * @param high pixels whose gradient is above it are edges
 */
public record ControlOptions(double low, double high) {

	public static final double DEFAULT_LOW = 100, DEFAULT_HIGH = 200;
	public static final ControlOptions DEFAULTS = new ControlOptions(DEFAULT_LOW, DEFAULT_HIGH);

	/** Says what is wrong with the thresholds, in the words of the macro keys. */
	public void validate() {
		if (!(low >= 0 && high <= 255 && low <= high))
			throw new StableDiffusionException(String.format(Locale.ROOT, "The Canny thresholds must satisfy 0 ≤ low ≤ "
				+ "high ≤ 255, not low %s and high %s. Try control_low=100 control_high=200 (lower values find more "
				+ "edges).", num(low), num(high)));
	}

	private static String num(double v) {
		return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
	}
}
