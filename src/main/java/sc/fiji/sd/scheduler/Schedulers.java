package sc.fiji.sd.scheduler;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

import sc.fiji.sd.StableDiffusionException;

/**
 * Creates schedulers by the sampler names AUTOMATIC1111 users know ("Euler a", "DPM++ 2M Karras", …; case and spacing
 * do not matter), or by the diffusers class named in the model's {@code scheduler_config.json} (name {@code null}).
 * <p>
 * The configuration supplies the noise schedule (betas, number of training steps, prediction type, offsets); the name
 * chooses the sampler. As in diffusers' {@code from_config}, keys the file does not set take the chosen class's
 * defaults (so SD 1.5's PNDM file gives Euler {@code linspace} spacing).
 */
public final class Schedulers {

	private Schedulers() {}

	/** The names {@link #create} accepts, in the order a drop-down shows them (diffusers class names work too). */
	public static List<String> names() {
		return List.of("Euler a", "Euler", "Euler Karras", "LMS", "LMS Karras", "Heun", "Heun Karras", "DPM++ 2M",
			"DPM++ 2M Karras", "DPM++ 2M SDE", "DPM++ 2M SDE Karras", "UniPC", "UniPC Karras", "DDIM", "PLMS", "PNDM", "LCM");
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
			if (!SchedulerConfig.SUPPORTED_CLASSES.contains(className)) throw new StableDiffusionException(
				"The scheduler class \"" + className + "\" in \"_class_name\" is not supported; supported classes are "
					+ String.join(", ", SchedulerConfig.SUPPORTED_CLASSES) + ", or choose a sampler by name: " + String
						.join(", ", names()) + ".");
			return ofClass(className, config, rng);
		}
		String key = name.trim().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
		for (String className : SchedulerConfig.SUPPORTED_CLASSES)
			if (className.toLowerCase(Locale.ROOT).equals(key)) return ofClass(className, config, rng);
		boolean karras = key.endsWith(" karras");
		String base = karras ? key.substring(0, key.length() - " karras".length()) : key;
		switch (base) {
			case "ddim":
				if (!karras) return new DDIMScheduler(config);
				break;
			case "pndm":
				if (!karras) return new PNDMScheduler(config);
				break;
			case "plms": // pure linear multistep: no Runge-Kutta warm-up
				if (!karras) return new PNDMScheduler(config.forClass(SchedulerConfig.PNDM).with("skip_prk_steps", true));
				break;
			case "lcm":
				if (!karras) return new LCMScheduler(config, rng);
				break;
			case "euler a":
			case "euler ancestral":
				if (!karras) return new EulerAncestralDiscreteScheduler(config, rng);
				break;
			case "euler":
				return new EulerDiscreteScheduler(config.withKarrasSigmas(karras));
			case "lms":
				return new LMSDiscreteScheduler(config.withKarrasSigmas(karras));
			case "heun":
				return new HeunDiscreteScheduler(config.withKarrasSigmas(karras));
			case "unipc":
				return new UniPCMultistepScheduler(config.withKarrasSigmas(karras));
			case "dpm++ 2m":
				return new DPMSolverMultistepScheduler(config.with("algorithm_type", "dpmsolver++").with("solver_order", 2)
					.withKarrasSigmas(karras));
			case "dpm++ 2m sde":
				return new DPMSolverMultistepScheduler(config.with("algorithm_type", "sde-dpmsolver++").with(
					"solver_order", 2).withKarrasSigmas(karras), rng);
			default:
		}
		throw new StableDiffusionException("Unknown sampler \"" + name + "\"; valid names are: " + String.join(", ",
			names()) + ".");
	}

	private static Scheduler ofClass(String className, SchedulerConfig config, RandomGenerator rng) {
		switch (className) {
			case SchedulerConfig.DDIM:
				return new DDIMScheduler(config);
			case SchedulerConfig.PNDM:
				return new PNDMScheduler(config);
			case SchedulerConfig.EULER:
				return new EulerDiscreteScheduler(config);
			case SchedulerConfig.EULER_ANCESTRAL:
				return new EulerAncestralDiscreteScheduler(config, rng);
			case SchedulerConfig.LMS:
				return new LMSDiscreteScheduler(config);
			case SchedulerConfig.DPM_MULTISTEP:
				return new DPMSolverMultistepScheduler(config, rng);
			case SchedulerConfig.LCM:
				return new LCMScheduler(config, rng);
			case SchedulerConfig.HEUN:
				return new HeunDiscreteScheduler(config);
			case SchedulerConfig.UNIPC:
				return new UniPCMultistepScheduler(config);
			default:
				throw new AssertionError(className);
		}
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
		if (name.endsWith(" Karras")) return new A1111Sampler(name.substring(0, name.length() - " Karras".length()),
			"Karras");
		if (name.equals("PNDM")) name = "PLMS"; // A1111 has only the PLMS name for this family
		return new A1111Sampler(name, null);
	}
}
