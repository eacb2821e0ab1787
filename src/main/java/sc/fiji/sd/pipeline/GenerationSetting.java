package sc.fiji.sd.pipeline;

import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;
import sc.fiji.sd.provenance.Provenance;

/**
 * One entry of {@link GenerationSettings}: a generation setting declared once, with what every front end needs to
 * offer it under the same name (macro key and batch-manifest column, command-line option, help, default, range) and
 * how its value reads from text and is written back (parameters text, recorded macros).
 * <p>
 * Front ends hand in whatever their widgets give ({@link #value(Object)}: the value itself, a number from a dialog, or
 * text from a macro, a command line or a manifest); the request carries it ({@link GenerationRequest#setting}).
 *
 * @param <T> the value's type: {@link Integer}, {@link Double}, or a value written as text ({@link #isNumber} false)
 */
public final class GenerationSetting<T> {

	private final String key;
	private final String option;
	private final String paramLabel;
	private final String help;
	private final String provenance;
	private final Class<T> type;
	private final T defaultValue;
	private final double min;
	private final double max;
	private final Set<Mode> modes;
	private final Function<String, T> parse;
	private final Function<T, String> format;
	private final String example;

	private GenerationSetting(String key, String option, String paramLabel, String help, String provenance, Class<T> type,
		T defaultValue, double min, double max, Set<Mode> modes, Function<String, T> parse, Function<T, String> format,
		String example)
	{
		this.key = key;
		this.option = option;
		this.paramLabel = paramLabel;
		this.help = help;
		this.provenance = provenance;
		this.type = type;
		this.defaultValue = defaultValue;
		this.min = min;
		this.max = max;
		this.modes = Set.copyOf(modes);
		this.parse = parse;
		this.format = format;
		this.example = example;
	}

	/** A whole number from {@code min} to {@code max}. */
	static GenerationSetting<Integer> integer(String key, String option, String help, String provenance, int defaultValue,
		int min, int max, Set<Mode> modes)
	{
		return new GenerationSetting<>(key, option, "N", help, provenance, Integer.class, defaultValue, min, max, modes,
			null, v -> Integer.toString(v), Integer.toString(defaultValue == max ? min : max));
	}

	/** A decimal number from {@code min} to {@code max}. */
	static GenerationSetting<Double> decimal(String key, String option, String help, String provenance,
		double defaultValue, double min, double max, Set<Mode> modes)
	{
		return new GenerationSetting<>(key, option, "X", help, provenance, Double.class, defaultValue, min, max, modes,
			null, Provenance::number, Provenance.number((min + max) / 2 == defaultValue ? max : (min + max) / 2));
	}

	/**
	 * A value written as text; {@code parse} throws a {@link StableDiffusionException} that says what to write, and is
	 * not called for empty text (the default). {@code defaultValue} may be null ("derived", e.g. the output size).
	 * {@code example}: a valid value other than the default, as text (tests and messages use it).
	 */
	static <T> GenerationSetting<T> text(String key, String option, String paramLabel, String help, String provenance,
		Class<T> type, T defaultValue, Set<Mode> modes, Function<String, T> parse, Function<T, String> format,
		String example)
	{
		return new GenerationSetting<>(key, option, paramLabel, help, provenance, type, defaultValue, 0, 0, modes, parse,
			format, example);
	}

	/** The macro key and batch-manifest column: one lower-case word (underscores allowed), e.g. {@code aesthetic_score}. */
	public String key() { return key; }
	/** The command-line option, e.g. {@code --aesthetic-score}. */
	public String option() { return option; }
	/** The command line's name for the value, e.g. {@code WxH}. */
	public String paramLabel() { return paramLabel; }
	/** One sentence for help texts, dialogs and the manifest's column list (without the default). */
	public String help() { return help; }
	/** The name in the AUTOMATIC1111-style parameters text, e.g. {@code Aesthetic score}; null: not written. */
	public String provenance() { return provenance; }
	public Class<T> type() { return type; }
	/** The default (null: derived from the request, as {@link #help} says). */
	public T defaultValue() { return defaultValue; }
	/** Numbers: the smallest and largest value allowed. */
	public double min() { return min; }
	public double max() { return max; }
	/** The commands that offer it (text to image, image to image, inpainting; outpainting is inpainting). */
	public boolean appliesTo(Mode mode) { return modes.contains(mode); }
	/** A number (a numeric field, a numeric input) rather than text. */
	public boolean isNumber() { return type == Integer.class || type == Double.class; }

	/** A valid value other than the default, as text: for numbers the largest or the middle of the range. */
	public String example() { return example; }

	/** The value as text, as a macro, the command line and the parameters text write it ("" for a null default). */
	public String text(T value) {
		return value == null ? "" : format.apply(value);
	}

	/**
	 * "Name: value" as the parameters text holds it; a value with a comma is quoted, as A1111 quotes them (its
	 * {@code ParametersText} reads it back).
	 */
	public String parametersEntry(T value) {
		String text = text(value);
		if (text.contains(",") || text.contains("\"")) text = "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
		return provenance + ": " + text;
	}

	/** The default as text ("" when derived). */
	public String defaultText() {
		return text(defaultValue);
	}

	/**
	 * A front end's value, checked: the value itself, a {@link Number} (dialogs give doubles), or text (empty: the
	 * default).
	 *
	 * @throws StableDiffusionException naming the setting, the value and what is allowed
	 */
	public T value(Object raw) {
		if (raw == null) return defaultValue;
		if (type.isInstance(raw)) return check(type.cast(raw));
		if (raw instanceof Number n && isNumber()) return check(number(n.doubleValue(), n.toString()));
		String text = raw.toString().trim();
		if (text.isEmpty()) return defaultValue;
		if (!isNumber()) return check(parse.apply(text));
		try {
			return check(number(Double.parseDouble(text), text));
		}
		catch (NumberFormatException e) {
			throw new StableDiffusionException(name() + " \"" + text + "\" is not a number; write e.g. " + key + "="
				+ defaultText() + ".");
		}
	}

	/** The value itself when it is allowed (numbers: within the range). */
	T check(T value) {
		if (value == null || !isNumber()) return value;
		double v = ((Number) value).doubleValue();
		if (!(v >= min && v <= max)) {
			throw new StableDiffusionException(name() + " must be between " + Provenance.number(min) + " and "
				+ Provenance.number(max) + ", not " + text(value) + " (" + help + ").");
		}
		return value;
	}

	private T number(double v, String text) {
		if (type == Double.class) return type.cast(v);
		if (v != Math.rint(v)) {
			throw new StableDiffusionException(name() + " must be a whole number, not " + text + ".");
		}
		return type.cast((int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v)));
	}

	/** The setting's name in messages: its provenance name, else its key. */
	private String name() {
		return provenance != null ? provenance : key.replace('_', ' ');
	}

	/** Whether the value differs from the default (only then is it written to the parameters text). */
	public boolean isDefault(T value) {
		return Objects.equals(value, defaultValue);
	}

	@Override
	public String toString() {
		return key;
	}
}
