package sc.fiji.sd.model;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import sc.fiji.sd.lora.EmbeddingSet;
import sc.fiji.sd.lora.EmbeddingSpec;
import sc.fiji.sd.lora.LoraSet;
import sc.fiji.sd.lora.LoraSpec;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.InitializerOverrides;
import sc.fiji.sd.onnx.RuntimeOptions;

/**
 * The one place a front end gets its loaded model from: keeps one model (SD models take GBs; and an SDXL refiner
 * beside it for a hand-off, {@link #refiner}), keyed by everything
 * that changes its sessions ({@link Key}); asking for another key closes the previous model first.
 * <p>
 * Each front end owns one: the Fiji service (created when Fiji starts, closed when it quits), the plain ImageJ 1.x
 * plugins' process-wide holder, a command-line run. Models handed out are owned by the provider: do not close them;
 * {@link #release()} frees the memory now, {@link #close()} for good.
 * <p>
 * <b>One generation at a time.</b> A generation that runs {@link #exclusively} cannot have its model released or
 * replaced under it: every method here takes the same fair lock, so a second generation that needs another model
 * (or a Settings change) waits until the first is finished, in the order asked.
 */
public final class ModelProvider implements AutoCloseable {

	/**
	 * Everything that changes the sessions of a loaded model: a different key loads anew. A record, so that what
	 * changes sessions later (e.g. the LoRAs applied) is one more field.
	 *
	 * @param folder the model folder, absolute and normalised
	 * @param options device, threads, CFG mode, memory handling
	 * @param loras the LoRA files and weights patched into the sessions ({@link LoraSpec#NONE}: none)
	 * @param embeddings the textual-inversion embeddings added to the text encoder ({@link EmbeddingSpec#NONE}: none)
	 * @param controlNets the ControlNets whose sessions open with the model, in order (none: the plain UNet)
	 */
	public record Key(Path folder, RuntimeOptions options, LoraSpec loras, EmbeddingSpec embeddings,
		List<Path> controlNets)
	{
		public Key {
			folder = Objects.requireNonNull(folder, "folder").toAbsolutePath().normalize();
			Objects.requireNonNull(options, "options");
			Objects.requireNonNull(loras, "loras");
			Objects.requireNonNull(embeddings, "embeddings");
			controlNets = controlNets.stream().map(ControlNetModel::normalize).toList();
		}

		/** The key of the model with LoRAs and embeddings, without ControlNets. */
		public Key(Path folder, RuntimeOptions options, LoraSpec loras, EmbeddingSpec embeddings) {
			this(folder, options, loras, embeddings, List.of());
		}

		/** The key of the model with LoRAs and ControlNets, without embeddings. */
		public Key(Path folder, RuntimeOptions options, LoraSpec loras, List<Path> controlNets) {
			this(folder, options, loras, EmbeddingSpec.NONE, controlNets);
		}

		/** The key of the model with LoRAs, without embeddings or ControlNets. */
		public Key(Path folder, RuntimeOptions options, LoraSpec loras) {
			this(folder, options, loras, EmbeddingSpec.NONE, List.of());
		}

		/** The key of the model without LoRAs. */
		public Key(Path folder, RuntimeOptions options) {
			this(folder, options, LoraSpec.NONE);
		}
	}

	private final ReentrantLock lock = new ReentrantLock(true);
	private final Slot main = new Slot();
	private final Slot refiner = new Slot(); // SDXL's refiner, held beside the model for a base -> refiner hand-off
	private boolean closed;

	/** One held model and the key it was loaded for. */
	private static final class Slot {
		StableDiffusionModel model;
		Key key;

		StableDiffusionModel get(Key key) {
			if (model != null && key.equals(this.key)) return model;
			close();
			model = load(key);
			this.key = key;
			return model;
		}

		void close() {
			if (model == null) return;
			StableDiffusionModel m = model;
			model = null;
			key = null;
			m.close();
		}
	}

	/**
	 * The model in {@code folder} on {@code device} (auto, cpu or cuda) with the runtime options of the system
	 * properties; front ends that build their {@link RuntimeOptions} pass them to {@link #get(Path, RuntimeOptions)}.
	 */
	public StableDiffusionModel get(Path folder, String device) {
		return get(folder, RuntimeOptions.fromSystemProperties().withDevice(Device.parse(device)));
	}

	/** {@link #get(Key)} of the folder and options. */
	public StableDiffusionModel get(Path folder, RuntimeOptions options) {
		return get(new Key(folder, options));
	}

	/** {@link #get(Key)} of the folder, options and LoRAs (another LoRA set or weight loads anew). */
	public StableDiffusionModel get(Path folder, RuntimeOptions options, LoraSpec loras) {
		return get(new Key(folder, options, loras));
	}

	/** The model for {@code key}, loading it (and closing the previous one) unless it is the one loaded. */
	public StableDiffusionModel get(Key key) {
		return exclusively(() -> {
			if (closed) throw new IllegalStateException("This model provider is closed.");
			return main.get(key);
		});
	}

	/**
	 * SDXL's refiner for {@code key}, held beside the model of {@link #get} (a base → refiner hand-off needs both
	 * loaded), loading it (and closing the previous refiner) unless it is the one held.
	 */
	public StableDiffusionModel refiner(Key key) {
		return exclusively(() -> {
			if (closed) throw new IllegalStateException("This model provider is closed.");
			return refiner.get(key);
		});
	}

	/** Closes the refiner, if one is held (a generation without a refiner frees its memory). */
	public void releaseRefiner() {
		exclusively(() -> {
			refiner.close();
			return null;
		});
	}

	/** {@link #get(Key)} of the folder, options, LoRAs and embeddings. */
	public StableDiffusionModel get(Path folder, RuntimeOptions options, LoraSpec loras, EmbeddingSpec embeddings) {
		return get(new Key(folder, options, loras, embeddings));
	}

	private static StableDiffusionModel load(Key key) {
		if (key.loras().isEmpty() && key.embeddings().isEmpty()) {
			return StableDiffusionModel.load(key.folder(), key.options(), InitializerOverrides.NONE, key.controlNets());
		}
		LoraSet set = key.loras().isEmpty() ? null : new LoraSet(key.loras());
		InitializerOverrides overrides = set == null ? new EmbeddingSet(key.embeddings())
			: key.embeddings().isEmpty() ? set : InitializerOverrides.both(set, new EmbeddingSet(key.embeddings()));
		// owns them from here on
		StableDiffusionModel m = StableDiffusionModel.load(key.folder(), key.options(), overrides, key.controlNets());
		try {
			if (set != null) set.checkEveryLoraApplied();
		}
		catch (RuntimeException e) {
			m.close();
			throw e;
		}
		return m;
	}

	/** The loaded model, or null. */
	public StableDiffusionModel current() {
		return exclusively(() -> main.model);
	}

	/** The key of the loaded model, or null. */
	public Key currentKey() {
		return exclusively(() -> main.key);
	}

	/**
	 * Runs {@code work} (typically: get a model and generate with it) while no other thread uses this provider; a
	 * release, or another generation, waits until it is finished. Reentrant.
	 */
	public <T> T exclusively(Supplier<T> work) {
		lock.lock();
		try {
			return work.get();
		}
		finally {
			lock.unlock();
		}
	}

	/**
	 * Closes the loaded model and refiner, if any (after a generation still running has finished); the next get loads
	 * again.
	 */
	public void release() {
		exclusively(() -> {
			main.close();
			refiner.close();
			return null;
		});
	}

	/** Releases the model for good: later {@link #get} calls fail. */
	@Override
	public void close() {
		exclusively(() -> {
			release();
			closed = true;
			return null;
		});
	}
}
