package sc.fiji.sd.control;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.basictypeaccess.array.FloatArray;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.image.Resize;

/**
 * The preprocessors by name, one list for the command line, the dialogs and the Fiji commands: {@code none},
 * {@code canny}, {@code invert}, {@code mask}, {@code scribble_xdog} (also typed as {@code scribble}).
 */
public final class ControlPreprocessors {

	public static final String DEFAULT = NoPreprocessor.NAME;

	private static final Map<String, ControlPreprocessor> ALL = new LinkedHashMap<>();
	static {
		for (ControlPreprocessor p : List.of(new NoPreprocessor(), new Canny(), new Invert(), new MaskPreprocessor(),
			new ScribbleXdog()))
			ALL.put(p.name(), p);
	}
	/** Other names users type: the and the command line's short name of the scribble preprocessor. */
	private static final Map<String, String> ALIASES = Map.of("scribble", ScribbleXdog.NAME);

	private ControlPreprocessors() {}

	/** The names, in the order dialogs offer them. */
	public static List<String> names() {
		return new ArrayList<>(ALL.keySet());
	}

	/**
	 * The preprocessor of that name (case-insensitive; {@code scribble} for {@code scribble_xdog}).
	 *
	 * @throws StableDiffusionException naming the choices when there is none of that name
	 */
	public static ControlPreprocessor get(String name) {
		String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
		ControlPreprocessor p = ALL.get(ALIASES.getOrDefault(key, key));
		if (p == null)
			throw new StableDiffusionException("Unknown control type \"" + name + "\". Choose one of: "
				+ String.join(", ", ALL.keySet()) + " (e.g. control_type=canny, or --control-type canny).");
		return p;
	}

	/**
	 * The control image for an output of {@code width} × {@code height}: the source resized to that size (nearest
	 * neighbour for masks and labels, else bilinear), then preprocessed, so edges and strokes are one pixel wide at the
	 * size the model works at. The source is not modified.
	 */
	public static ArrayImg<FloatType, FloatArray> prepare(RandomAccessibleInterval<FloatType> source,
		ControlPreprocessor preprocessor, ControlOptions options, int width, int height) {
		boolean sameSize = source.dimension(0) == width && source.dimension(1) == height;
		RandomAccessibleInterval<FloatType> sized = sameSize ? source
			: preprocessor.nearestResize() ? Resize.nearest(source, width, height) : Resize.bilinear(source, width, height);
		return preprocessor.apply(sized, options);
	}
}
