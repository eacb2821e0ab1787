package sc.fiji.sd.scheduler;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;

import sc.fiji.sd.StableDiffusionException;

/**
 * A diffusers {@code scheduler_config.json}: the keys diffusers' scheduler classes read, with diffusers' defaults.
 * <p>
 * Defaults depend on the scheduler class that uses the configuration, exactly as in diffusers' {@code from_config}:
 * the keys present in the file win, the absent ones take the <em>using</em> class's constructor defaults. So SD 1.5's
 * {@code PNDMScheduler} configuration (no {@code timestep_spacing} key) gives {@code leading} spacing to DDIM and PNDM
 * but {@code linspace} to Euler and DPM-Solver. {@link #forClass(String)} selects whose defaults apply; each scheduler
 * calls it in its constructor. The class defaults are the {@code DEFAULTS} of each scheduler class.
 * <p>
 * Immutable: {@link #with(String, Object)} returns a modified copy (e.g. Karras sigmas switched on). Invalid values
 * throw {@link StableDiffusionException} naming the key and the allowed values.
 */
public final class SchedulerConfig {

	// Class names as diffusers writes them in "_class_name" (each class's CLASS_NAME; a new class needs none here).
	public static final String DDIM = DDIMScheduler.CLASS_NAME;
	public static final String PNDM = PNDMScheduler.CLASS_NAME;
	public static final String EULER = EulerDiscreteScheduler.CLASS_NAME;
	public static final String EULER_ANCESTRAL = EulerAncestralDiscreteScheduler.CLASS_NAME;
	public static final String LMS = LMSDiscreteScheduler.CLASS_NAME;
	public static final String DPM_MULTISTEP = DPMSolverMultistepScheduler.CLASS_NAME;
	public static final String LCM = LCMScheduler.CLASS_NAME;
	public static final String HEUN = HeunDiscreteScheduler.CLASS_NAME;
	public static final String UNIPC = UniPCMultistepScheduler.CLASS_NAME;

	/** The scheduler classes this package implements (the registry's, {@link Schedulers}). */
	public static final List<String> SUPPORTED_CLASSES = Schedulers.classNames();

	// ---- The keys, their kinds and (for strings) their allowed values. ----

	private enum Kind {
		INT, NUMBER, BOOLEAN, STRING, NUMBER_ARRAY
	}

	private static final Map<String, Kind> KINDS = new LinkedHashMap<>();
	private static final Map<String, List<String>> ALLOWED = new LinkedHashMap<>();
	/** Defaults shared by most classes (diffusers' constructor defaults); each class's DEFAULTS holds its differences. */
	private static final Map<String, Object> BASE_DEFAULTS = new LinkedHashMap<>();

	private static void key(String name, Kind kind, Object baseDefault, String... allowed) {
		KINDS.put(name, kind);
		BASE_DEFAULTS.put(name, baseDefault);
		if (allowed.length > 0) ALLOWED.put(name, List.of(allowed));
	}

	static {
		key("num_train_timesteps", Kind.INT, 1000);
		key("beta_start", Kind.NUMBER, 0.0001);
		key("beta_end", Kind.NUMBER, 0.02);
		key("beta_schedule", Kind.STRING, "linear", "linear", "scaled_linear", "squaredcos_cap_v2");
		key("trained_betas", Kind.NUMBER_ARRAY, null);
		key("prediction_type", Kind.STRING, "epsilon", "epsilon", "v_prediction", "sample");
		key("steps_offset", Kind.INT, 0);
		key("timestep_spacing", Kind.STRING, "linspace", "leading", "linspace", "trailing");
		key("rescale_betas_zero_snr", Kind.BOOLEAN, false);
		key("set_alpha_to_one", Kind.BOOLEAN, false);
		key("skip_prk_steps", Kind.BOOLEAN, false);
		key("clip_sample", Kind.BOOLEAN, false);
		key("clip_sample_range", Kind.NUMBER, 1.0);
		key("thresholding", Kind.BOOLEAN, false);
		key("dynamic_thresholding_ratio", Kind.NUMBER, 0.995);
		key("sample_max_value", Kind.NUMBER, 1.0);
		key("use_karras_sigmas", Kind.BOOLEAN, false);
		key("use_exponential_sigmas", Kind.BOOLEAN, false);
		key("use_beta_sigmas", Kind.BOOLEAN, false);
		key("sigma_min", Kind.NUMBER, null);
		key("sigma_max", Kind.NUMBER, null);
		key("interpolation_type", Kind.STRING, "linear", "linear", "log_linear");
		key("timestep_type", Kind.STRING, "discrete", "discrete", "continuous");
		key("final_sigmas_type", Kind.STRING, "zero", "zero", "sigma_min");
		key("solver_order", Kind.INT, 2);
		// "deis" is accepted and run as dpmsolver++, as diffusers does when it loads a DEIS configuration.
		key("algorithm_type", Kind.STRING, "dpmsolver++", "dpmsolver++", "dpmsolver", "sde-dpmsolver++",
			"sde-dpmsolver", "deis");
		// "logrho", "bh1", "bh2" (other solvers' names) are run as midpoint, as diffusers does.
		key("solver_type", Kind.STRING, "midpoint", "midpoint", "heun", "logrho", "bh1", "bh2");
		key("lower_order_final", Kind.BOOLEAN, true);
		key("euler_at_final", Kind.BOOLEAN, false);
		key("lambda_min_clipped", Kind.NUMBER, Double.NEGATIVE_INFINITY);
		key("variance_type", Kind.STRING, null, "learned", "learned_range");
		key("use_lu_lambdas", Kind.BOOLEAN, false);
		key("predict_x0", Kind.BOOLEAN, true);
		key("disable_corrector", Kind.NUMBER_ARRAY, new double[0]);
		key("original_inference_steps", Kind.INT, 50);
		key("timestep_scaling", Kind.NUMBER, 10.0);

	}

	private final String className;
	private final String defaultsClass;
	private final String source;
	private final Map<String, Object> explicit;

	private SchedulerConfig(String className, String defaultsClass, String source, Map<String, Object> explicit) {
		this.className = className;
		this.defaultsClass = defaultsClass;
		this.source = source;
		this.explicit = Collections.unmodifiableMap(explicit);
	}

	// ---- Construction ----

	/** Reads a {@code scheduler_config.json}. A missing or unreadable file gives a message naming the path. */
	public static SchedulerConfig load(Path json) {
		try (Reader reader = Files.newBufferedReader(json, StandardCharsets.UTF_8)) {
			return parse(JsonParser.parseReader(reader), json.toString());
		}
		catch (NoSuchFileException e) {
			throw new StableDiffusionException("Scheduler configuration not found: " + json
				+ ". A diffusers model folder has it at scheduler/scheduler_config.json; check the model folder.", e);
		}
		catch (IOException e) {
			throw new StableDiffusionException("Cannot read the scheduler configuration " + json + ": " + e
				.getMessage() + ". Check that the file is readable.", e);
		}
		catch (JsonParseException e) {
			throw new StableDiffusionException("The scheduler configuration " + json + " is not valid JSON (" + e
				.getMessage() + "). Re-export the model or fix the file.", e);
		}
	}

	/** Parses the text of a {@code scheduler_config.json}. */
	public static SchedulerConfig fromJson(String json) {
		try {
			return parse(JsonParser.parseString(json), "the scheduler configuration");
		}
		catch (JsonParseException e) {
			throw new StableDiffusionException("The scheduler configuration is not valid JSON (" + e.getMessage()
				+ ").", e);
		}
	}

	/** A configuration with no keys: every value is the default of {@code className}. */
	public static SchedulerConfig defaults(String className) {
		checkClass(className, "defaults");
		return new SchedulerConfig(className, className, "defaults", new LinkedHashMap<>());
	}

	private static SchedulerConfig parse(JsonElement root, String source) {
		if (!root.isJsonObject()) throw new StableDiffusionException("The scheduler configuration " + source
			+ " must be a JSON object ({\"_class_name\": ..., ...}).");
		JsonObject object = root.getAsJsonObject();
		String className = null;
		JsonElement classElement = object.get("_class_name");
		if (classElement != null && !classElement.isJsonNull()) {
			if (!classElement.isJsonPrimitive() || !classElement.getAsJsonPrimitive().isString())
				throw invalid(source, "_class_name", classElement, "a scheduler class name such as " + EULER);
			className = classElement.getAsString();
		}
		Map<String, Object> values = new LinkedHashMap<>();
		for (Map.Entry<String, JsonElement> e : object.entrySet()) {
			// Unknown keys (e.g. "_diffusers_version", options of other classes) are ignored, as in diffusers.
			if (!KINDS.containsKey(e.getKey()) || e.getValue().isJsonNull()) continue;
			values.put(e.getKey(), convert(source, e.getKey(), e.getValue()));
		}
		String defaults = className != null && Schedulers.classDefaults(className) != null ? className : null;
		SchedulerConfig config = new SchedulerConfig(className, defaults, source, values);
		config.validate();
		return config;
	}

	private static Object convert(String source, String key, JsonElement value) {
		Kind kind = KINDS.get(key);
		switch (kind) {
			case INT:
				if (isNumber(value)) {
					double d = value.getAsDouble();
					if (d == Math.rint(d) && Math.abs(d) < Integer.MAX_VALUE) return (int) d;
				}
				throw invalid(source, key, value, "a whole number");
			case NUMBER:
				if (isNumber(value)) return value.getAsDouble();
				// JSON has no infinity; Python's json writes -Infinity for lambda_min_clipped's default.
				if (value.isJsonPrimitive() && value.getAsJsonPrimitive().isString()) {
					String s = value.getAsString();
					if (s.equals("-Infinity") || s.equals("-inf")) return Double.NEGATIVE_INFINITY;
					if (s.equals("Infinity") || s.equals("inf")) return Double.POSITIVE_INFINITY;
				}
				throw invalid(source, key, value, "a number");
			case BOOLEAN:
				if (value.isJsonPrimitive() && value.getAsJsonPrimitive().isBoolean()) return value.getAsBoolean();
				throw invalid(source, key, value, "true or false");
			case STRING: {
				List<String> allowed = ALLOWED.get(key);
				if (value.isJsonPrimitive() && value.getAsJsonPrimitive().isString() && allowed.contains(value
					.getAsString())) return value.getAsString();
				throw invalid(source, key, value, "one of " + String.join(", ", allowed));
			}
			case NUMBER_ARRAY: {
				if (value.isJsonArray()) {
					JsonArray array = value.getAsJsonArray();
					double[] numbers = new double[array.size()];
					for (int i = 0; i < numbers.length; i++) {
						if (!isNumber(array.get(i))) throw invalid(source, key, value, "a list of numbers");
						numbers[i] = array.get(i).getAsDouble();
					}
					return numbers;
				}
				throw invalid(source, key, value, "a list of numbers");
			}
			default:
				throw new AssertionError(kind);
		}
	}

	private static boolean isNumber(JsonElement value) {
		return value.isJsonPrimitive() && value.getAsJsonPrimitive().isNumber();
	}

	private static StableDiffusionException invalid(String source, String key, Object value, String allowed) {
		String shown = value instanceof JsonElement ? value.toString() : String.valueOf(value);
		return new StableDiffusionException("Invalid value " + shown + " for \"" + key + "\" in " + source
			+ ": allowed values are " + allowed + ".");
	}

	/** Checks relations between values that single keys cannot (ranges, lengths, unsupported options). */
	private void validate() {
		if (numTrainTimesteps() < 1) throw invalid(source, "num_train_timesteps", numTrainTimesteps(),
			"a whole number >= 1");
		if (stepsOffset() < 0) throw invalid(source, "steps_offset", stepsOffset(), "a whole number >= 0");
		if (!(betaStart() > 0 && betaStart() < 1)) throw invalid(source, "beta_start", betaStart(),
			"a number between 0 and 1 (exclusive)");
		if (!(betaEnd() > 0 && betaEnd() < 1)) throw invalid(source, "beta_end", betaEnd(),
			"a number between 0 and 1 (exclusive)");
		double[] trained = trainedBetas();
		if (trained != null && trained.length != numTrainTimesteps()) throw new StableDiffusionException(
			"\"trained_betas\" in " + source + " has " + trained.length + " values but \"num_train_timesteps\" is "
				+ numTrainTimesteps() + ": allowed values are a list of exactly num_train_timesteps betas.");
		// Karras sigmas are spaced in sigma^(1/7): a range that is not positive and increasing gives NaN latents
		if (sigmaMin() <= 0) throw invalid(source, "sigma_min", sigmaMin(), "a number > 0");
		if (sigmaMax() <= 0) throw invalid(source, "sigma_max", sigmaMax(), "a number > 0");
		if (sigmaMin() >= sigmaMax()) throw invalid(source, "sigma_max", sigmaMax(), "a number > sigma_min ("
			+ sigmaMin() + ")");
		if (solverOrder() < 1 || solverOrder() > 3) throw invalid(source, "solver_order", solverOrder(),
			"1, 2 or 3");
		if (originalInferenceSteps() < 1) throw invalid(source, "original_inference_steps", originalInferenceSteps(),
			"a whole number >= 1");
		if (thresholding()) throw new StableDiffusionException("\"thresholding\": true in " + source
			+ " is not supported: dynamic thresholding is meant for pixel-space models, not for Stable Diffusion's"
			+ " latents. Allowed values are: false.");
		if (bool("use_beta_sigmas") || bool("use_exponential_sigmas") || bool("use_lu_lambdas"))
			throw new StableDiffusionException("\"use_beta_sigmas\", \"use_exponential_sigmas\" and \"use_lu_lambdas\""
				+ " in " + source + " are not supported; allowed values are: false (use \"use_karras_sigmas\" instead).");
		if ("continuous".equals(string("timestep_type")))
			throw invalid(source, "timestep_type", "\"continuous\"", "\"discrete\" (continuous timesteps are for"
				+ " EDM-style models, not Stable Diffusion)");
	}

	private static void checkClass(String className, String where) {
		if (Schedulers.classDefaults(className) == null) throw new StableDiffusionException("Unknown scheduler class \""
			+ className + "\" (" + where + "); allowed values are " + String.join(", ", SUPPORTED_CLASSES) + ".");
	}

	// ---- Copies ----

	/**
	 * This configuration as used by {@code className}: absent keys take that class's defaults, and
	 * {@link #className()} becomes {@code className}. Explicit keys are kept.
	 */
	public SchedulerConfig forClass(String className) {
		checkClass(className, "scheduler class");
		SchedulerConfig copy = new SchedulerConfig(className, className, source, new LinkedHashMap<>(explicit));
		copy.validate();
		return copy;
	}

	/**
	 * A copy with {@code key} set to {@code value} (a Number, Boolean, String, double[] or null to remove the key),
	 * validated like a value read from a file. E.g. {@code config.with("use_karras_sigmas", true)}.
	 */
	public SchedulerConfig with(String key, Object value) {
		if (!KINDS.containsKey(key)) throw new StableDiffusionException("Unknown scheduler configuration key \""
			+ key + "\"; allowed keys are " + String.join(", ", KINDS.keySet()) + ".");
		Map<String, Object> values = new LinkedHashMap<>(explicit);
		if (value == null) values.remove(key);
		else values.put(key, convert("the override", key, new Gson().toJsonTree(value)));
		SchedulerConfig copy = new SchedulerConfig(className, defaultsClass, source, values);
		copy.validate();
		return copy;
	}

	/** Shorthand for {@code with("use_karras_sigmas", on)} (A1111's "Karras" schedule type). */
	public SchedulerConfig withKarrasSigmas(boolean on) {
		return with("use_karras_sigmas", on);
	}

	/** The configuration as diffusers JSON: "_class_name" and the explicit keys (absent keys stay absent). */
	public String toJson() {
		JsonObject object = new JsonObject();
		if (className != null) object.addProperty("_class_name", className);
		Gson gson = new Gson();
		explicit.forEach((k, v) -> object.add(k, v instanceof Double && ((Double) v).isInfinite() ? new JsonPrimitive(
			v.toString()) : gson.toJsonTree(v)));
		return object.toString();
	}

	// ---- Values ----

	/** "_class_name": the diffusers class this configuration belongs to (after {@link #forClass}, the using class). */
	public String className() {
		return className;
	}

	/** Whether the file set {@code key} explicitly (as opposed to a class default). */
	public boolean isSet(String key) {
		return explicit.containsKey(key);
	}

	/** The value of {@code key}: explicit, else the default of the using class, else diffusers' common default. */
	public Object value(String key) {
		if (explicit.containsKey(key)) return explicit.get(key);
		Map<String, Object> classDefaults = defaultsClass == null ? Map.of() : Schedulers.classDefaults(defaultsClass);
		return classDefaults.containsKey(key) ? classDefaults.get(key) : BASE_DEFAULTS.get(key);
	}

	private boolean bool(String key) {
		return (Boolean) value(key);
	}

	private String string(String key) {
		return (String) value(key);
	}

	private double number(String key) {
		return ((Number) value(key)).doubleValue();
	}

	private int integer(String key) {
		return ((Number) value(key)).intValue();
	}

	public int numTrainTimesteps() { return integer("num_train_timesteps"); }
	public double betaStart() { return number("beta_start"); }
	public double betaEnd() { return number("beta_end"); }
	public String betaSchedule() { return string("beta_schedule"); }

	/** "trained_betas", or null when the betas come from beta_start/beta_end/beta_schedule. */
	public double[] trainedBetas() {
		double[] b = (double[]) value("trained_betas");
		return b == null ? null : b.clone();
	}

	public String predictionType() { return string("prediction_type"); }
	public int stepsOffset() { return integer("steps_offset"); }
	public String timestepSpacing() { return string("timestep_spacing"); }
	public boolean rescaleBetasZeroSnr() { return bool("rescale_betas_zero_snr"); }
	public boolean setAlphaToOne() { return bool("set_alpha_to_one"); }
	public boolean skipPrkSteps() { return bool("skip_prk_steps"); }
	public boolean clipSample() { return bool("clip_sample"); }
	public double clipSampleRange() { return number("clip_sample_range"); }
	public boolean thresholding() { return bool("thresholding"); }
	public boolean useKarrasSigmas() { return bool("use_karras_sigmas"); }

	/** "sigma_min" for Karras sigmas, or NaN when absent (then the schedule's smallest sigma is used). */
	public double sigmaMin() { return value("sigma_min") == null ? Double.NaN : number("sigma_min"); }

	/** "sigma_max" for Karras sigmas, or NaN when absent (then the schedule's largest sigma is used). */
	public double sigmaMax() { return value("sigma_max") == null ? Double.NaN : number("sigma_max"); }

	/**
	 * The range Karras sigmas span: the configured sigma_min and sigma_max, each in place of the schedule's own end
	 * where it is given. A range checked in {@link #validate()} when both keys are given, here when one is: a lone
	 * sigma_min at or above the schedule's largest sigma (or a lone sigma_max at or below its smallest) would run the
	 * sigmas upwards, adding noise instead of removing it.
	 *
	 * @return { sigma_min, sigma_max }
	 */
	public double[] karrasRange(double scheduleMin, double scheduleMax) {
		double min = Double.isNaN(sigmaMin()) ? scheduleMin : sigmaMin();
		double max = Double.isNaN(sigmaMax()) ? scheduleMax : sigmaMax();
		if (min >= max) {
			String key = Double.isNaN(sigmaMax()) ? "sigma_min" : "sigma_max";
			double value = Double.isNaN(sigmaMax()) ? min : max;
			String allowed = Double.isNaN(sigmaMax()) ? "a number below the schedule's largest sigma (" + (float) max
				+ "), or add \"sigma_max\" above it" : "a number above the schedule's smallest sigma (" + (float) min
				+ "), or add \"sigma_min\" below it";
			throw invalid(source, key, value, allowed);
		}
		return new double[] { min, max };
	}

	public String interpolationType() { return string("interpolation_type"); }
	public String finalSigmasType() { return string("final_sigmas_type"); }
	public int solverOrder() { return integer("solver_order"); }

	/** "algorithm_type", with "deis" read as "dpmsolver++" (diffusers does the same). */
	public String algorithmType() {
		String a = string("algorithm_type");
		return a.equals("deis") ? "dpmsolver++" : a;
	}

	/** "solver_type", with other solvers' names ("logrho", "bh1", "bh2") read as "midpoint" (as diffusers does). */
	public String solverType() {
		String s = string("solver_type");
		return s.equals("heun") ? "heun" : "midpoint";
	}

	/** UniPC's "solver_type": "bh1" or "bh2" (DPM-Solver's names are read as "bh2", as diffusers does). */
	public String uniPcSolverType() {
		return string("solver_type").equals("bh1") ? "bh1" : "bh2";
	}

	/** UniPC's "predict_x0": whether the solver works on predicted x0 (true, UniPC-p) or on the noise. */
	public boolean predictX0() { return bool("predict_x0"); }

	/** UniPC's "disable_corrector": the step indices whose corrector is skipped. */
	public int[] disableCorrector() {
		return Arrays.stream((double[]) value("disable_corrector")).mapToInt(d -> (int) d).toArray();
	}

	public boolean lowerOrderFinal() { return bool("lower_order_final"); }
	public boolean eulerAtFinal() { return bool("euler_at_final"); }
	public double lambdaMinClipped() { return number("lambda_min_clipped"); }
	public String varianceType() { return string("variance_type"); }
	public int originalInferenceSteps() { return integer("original_inference_steps"); }
	public double timestepScaling() { return number("timestep_scaling"); }

	@Override
	public boolean equals(Object o) {
		if (!(o instanceof SchedulerConfig)) return false;
		SchedulerConfig other = (SchedulerConfig) o;
		if (!Objects.equals(className, other.className) || !Objects.equals(defaultsClass, other.defaultsClass)
			|| !explicit.keySet().equals(other.explicit.keySet())) return false;
		for (String k : explicit.keySet()) {
			Object a = explicit.get(k), b = other.explicit.get(k);
			if (a instanceof double[] ? !Arrays.equals((double[]) a, (double[]) b) : !a.equals(b)) return false;
		}
		return true;
	}

	@Override
	public int hashCode() {
		return Objects.hash(className, defaultsClass, explicit.keySet());
	}

	@Override
	public String toString() {
		return toJson();
	}
}
