package sc.fiji.sd.scheduler;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import java.util.random.RandomGenerator;

import sc.fiji.sd.StableDiffusionException;

/**
 * The sampler registry: creates schedulers by the sampler names AUTOMATIC1111 users know ("Euler a", "DPM++ 2M
 * Karras", …; case and spacing do not matter), or by the diffusers class named in the model's
 * {@code scheduler_config.json} (name {@code null}).
 * <p>
 * The configuration supplies the noise schedule (betas, number of training steps, prediction type, offsets); the name
 * chooses the sampler. As in diffusers' {@code from_config}, keys the file does not set take the chosen class's
 * defaults (so SD 1.5's PNDM file gives Euler {@code linspace} spacing).
 * <p>
 * Everything that lists samplers derives from the two tables below: {@link #names()} (drop-downs, help, error
 * messages), creation by name, the diffusers class mapping ({@link SchedulerConfig#SUPPORTED_CLASSES}, whose defaults
 * apply) and the names written to provenance ({@link #a1111Sampler}). A new sampler is its own class (with its
 * {@code CLASS_NAME} and {@code DEFAULTS}), a line in {@link #CLASSES}, and a line in {@link #SAMPLERS} if A1111 has a
 * name for it.
 */
public final class Schedulers {

	private static final String KARRAS = " Karras";

	private Schedulers() {}

	/** Builds a scheduler of one diffusers class; stochastic samplers draw their noise from {@code rng}. */
	@FunctionalInterface
	interface Constructor {

		Scheduler create(SchedulerConfig config, RandomGenerator rng);
	}

	/** A diffusers scheduler class: its {@code "_class_name"}, its constructor defaults, and its constructor. */
	record SchedulerClass(String name, Map<String, Object> defaults, Constructor constructor) {}

	/**
	 * An AUTOMATIC1111 sampler: a diffusers class with some keys set. {@code karras}: whether "NAME Karras" exists
	 * (the same with {@code use_karras_sigmas}); {@code writtenAs}: the name A1111 writes in parameters text.
	 */
	record Sampler(String name, List<String> aliases, boolean karras, String className,
		UnaryOperator<SchedulerConfig> configure, String writtenAs) {

		static Sampler of(String name, String className) {
			return new Sampler(name, List.of(), false, className, config -> config, name);
		}

		Sampler withKarras() {
			return new Sampler(name, aliases, true, className, configure, writtenAs);
		}

		Sampler alias(String alias) {
			List<String> all = new ArrayList<>(aliases);
			all.add(alias);
			return new Sampler(name, List.copyOf(all), karras, className, configure, writtenAs);
		}

		Sampler configured(UnaryOperator<SchedulerConfig> how) {
			return new Sampler(name, aliases, karras, className, how, writtenAs);
		}

		Sampler writtenAs(String a1111Name) {
			return new Sampler(name, aliases, karras, className, configure, a1111Name);
		}

		boolean isCalled(String key) {
			return name.toLowerCase(Locale.ROOT).equals(key) || aliases.stream().anyMatch(a -> a.toLowerCase(
				Locale.ROOT).equals(key));
		}
	}

	/** The diffusers classes this package implements, in the order messages list them. */
	static final List<SchedulerClass> CLASSES = List.of(
		new SchedulerClass(DDIMScheduler.CLASS_NAME, DDIMScheduler.DEFAULTS, (config, rng) -> new DDIMScheduler(config)),
		new SchedulerClass(PNDMScheduler.CLASS_NAME, PNDMScheduler.DEFAULTS, (config, rng) -> new PNDMScheduler(config)),
		new SchedulerClass(EulerDiscreteScheduler.CLASS_NAME, EulerDiscreteScheduler.DEFAULTS,
			(config, rng) -> new EulerDiscreteScheduler(config)),
		new SchedulerClass(EulerAncestralDiscreteScheduler.CLASS_NAME, EulerAncestralDiscreteScheduler.DEFAULTS,
			EulerAncestralDiscreteScheduler::new),
		new SchedulerClass(LMSDiscreteScheduler.CLASS_NAME, LMSDiscreteScheduler.DEFAULTS,
			(config, rng) -> new LMSDiscreteScheduler(config)),
		new SchedulerClass(DPMSolverMultistepScheduler.CLASS_NAME, DPMSolverMultistepScheduler.DEFAULTS,
			DPMSolverMultistepScheduler::new),
		new SchedulerClass(LCMScheduler.CLASS_NAME, LCMScheduler.DEFAULTS, LCMScheduler::new),
		new SchedulerClass(HeunDiscreteScheduler.CLASS_NAME, HeunDiscreteScheduler.DEFAULTS,
			(config, rng) -> new HeunDiscreteScheduler(config)),
		new SchedulerClass(UniPCMultistepScheduler.CLASS_NAME, UniPCMultistepScheduler.DEFAULTS,
			(config, rng) -> new UniPCMultistepScheduler(config)));

	/** AUTOMATIC1111's samplers, in the order a drop-down shows them. */
	static final List<Sampler> SAMPLERS = List.of(
		Sampler.of("Euler a", EulerAncestralDiscreteScheduler.CLASS_NAME).alias("Euler ancestral"),
		Sampler.of("Euler", EulerDiscreteScheduler.CLASS_NAME).withKarras(),
		Sampler.of("LMS", LMSDiscreteScheduler.CLASS_NAME).withKarras(),
		Sampler.of("Heun", HeunDiscreteScheduler.CLASS_NAME).withKarras(),
		Sampler.of("DPM++ 2M", DPMSolverMultistepScheduler.CLASS_NAME).withKarras().configured(config -> config.with(
			"algorithm_type", "dpmsolver++").with("solver_order", 2)),
		Sampler.of("DPM++ 2M SDE", DPMSolverMultistepScheduler.CLASS_NAME).withKarras().configured(config -> config
			.with("algorithm_type", "sde-dpmsolver++").with("solver_order", 2)),
		Sampler.of("UniPC", UniPCMultistepScheduler.CLASS_NAME).withKarras(),
		Sampler.of("DDIM", DDIMScheduler.CLASS_NAME),
		// pure linear multistep: no Runge-Kutta warm-up
		Sampler.of("PLMS", PNDMScheduler.CLASS_NAME).configured(config -> config.forClass(PNDMScheduler.CLASS_NAME)
			.with("skip_prk_steps", true)),
		Sampler.of("PNDM", PNDMScheduler.CLASS_NAME).writtenAs("PLMS"), // A1111 has only the PLMS name for this family
		Sampler.of("LCM", LCMScheduler.CLASS_NAME));

	private static final Map<String, SchedulerClass> BY_CLASS_NAME = new LinkedHashMap<>();

	static {
		for (SchedulerClass c : CLASSES)
			BY_CLASS_NAME.put(c.name(), c);
	}

	/** The names {@link #create} accepts, in the order a drop-down shows them (diffusers class names work too). */
	public static List<String> names() {
		List<String> names = new ArrayList<>();
		for (Sampler sampler : SAMPLERS) {
			names.add(sampler.name());
			if (sampler.karras()) names.add(sampler.name() + KARRAS);
		}
		return List.copyOf(names);
	}

	/** The diffusers class names this package implements. */
	static List<String> classNames() {
		return List.copyOf(BY_CLASS_NAME.keySet());
	}

	/** The constructor defaults of the diffusers class {@code className}, or null when it is not implemented here. */
	static Map<String, Object> classDefaults(String className) {
		SchedulerClass c = BY_CLASS_NAME.get(className);
		return c == null ? null : c.defaults();
	}

	/** Whether {@link #create} accepts {@code name} (an A1111 sampler name or a supported diffusers class name). */
	public static boolean isKnown(String name) {
		String key = name.trim().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
		if (key.equals("euler ancestral")) return true;
		for (String n : names())
			if (n.toLowerCase(Locale.ROOT).equals(key)) return true;
		for (String className : SchedulerConfig.SUPPORTED_CLASSES)
			if (className.toLowerCase(Locale.ROOT).equals(key)) return true;
		return false;
	}

	/**
	 * The scheduler {@code name} configured from {@code schedulerConfigJson}. Stochastic samplers (Euler a, DPM++ 2M
	 * SDE, LCM) get an unseeded generator: use {@link #create(String, SchedulerConfig, RandomGenerator)} for
	 * reproducible runs.
	 */
	public static Scheduler create(String name, Path schedulerConfigJson) {
		return create(name, SchedulerConfig.load(schedulerConfigJson), new SplittableRandom());
	}

	/** The scheduler {@code name} from a configuration file, stochastic ones drawing from {@code rng}. */
	public static Scheduler create(String name, Path schedulerConfigJson, RandomGenerator rng) {
		return create(name, SchedulerConfig.load(schedulerConfigJson), rng);
	}

	/**
	 * The scheduler {@code name} (A1111 sampler name, or a diffusers class name, or null for the configuration's
	 * {@code _class_name}); stochastic samplers draw their noise from {@code rng}.
	 */
	public static Scheduler create(String name, SchedulerConfig config, RandomGenerator rng) {
		if (name == null) {
			String className = config.className();
			if (className == null) throw new StableDiffusionException("The scheduler configuration has no"
				+ " \"_class_name\"; choose a sampler by name: " + String.join(", ", names()) + ".");
			if (!BY_CLASS_NAME.containsKey(className)) throw new StableDiffusionException(
				"The scheduler class \"" + className + "\" in \"_class_name\" is not supported; supported classes are "
					+ String.join(", ", classNames()) + ", or choose a sampler by name: " + String.join(", ", names())
					+ ".");
			return ofClass(className, config, rng);
		}
		String key = name.trim().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
		for (String className : BY_CLASS_NAME.keySet())
			if (className.toLowerCase(Locale.ROOT).equals(key)) return ofClass(className, config, rng);
		boolean karras = key.endsWith(KARRAS.toLowerCase(Locale.ROOT));
		String base = karras ? key.substring(0, key.length() - KARRAS.length()) : key;
		for (Sampler sampler : SAMPLERS) {
			if (!sampler.isCalled(base) || karras && !sampler.karras()) continue;
			SchedulerConfig configured = sampler.configure().apply(config);
			// A1111's plain name means no Karras sigmas, whatever the file says
			if (sampler.karras()) configured = configured.withKarrasSigmas(karras);
			return ofClass(sampler.className(), configured, rng);
		}
		throw new StableDiffusionException("Unknown sampler \"" + name + "\"; valid names are: " + String.join(", ",
			names()) + ".");
	}

	private static Scheduler ofClass(String className, SchedulerConfig config, RandomGenerator rng) {
		return BY_CLASS_NAME.get(className).constructor().create(config, rng);
	}

	/**
	 * How AUTOMATIC1111 writes a sampler in its parameters text: {@code Sampler: DPM++ 2M, Schedule type: Karras}.
	 * {@code scheduleType} is null for the sampler's default schedule ("Automatic"; leave the field out).
	 */
	public record A1111Sampler(String sampler, String scheduleType) {

		/** "Sampler: X" or "Sampler: X, Schedule type: Y". */
		public String parametersText() {
			return "Sampler: " + sampler + (scheduleType == null ? "" : ", Schedule type: " + scheduleType);
		}
	}

	/** The A1111 sampler name and schedule type of a scheduler, for provenance text. */
	public static A1111Sampler a1111Sampler(Scheduler scheduler) {
		String name = scheduler.displayName();
		boolean karras = name.endsWith(KARRAS);
		String base = karras ? name.substring(0, name.length() - KARRAS.length()) : name;
		String sampler = SAMPLERS.stream().filter(s -> s.name().equals(base)).map(Sampler::writtenAs).findFirst()
			.orElse(base);
		return new A1111Sampler(sampler, karras ? "Karras" : null);
	}
}
