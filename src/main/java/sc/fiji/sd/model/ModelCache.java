package sc.fiji.sd.model;

import java.nio.file.Path;

import sc.fiji.sd.lora.LoraSet;
import sc.fiji.sd.lora.LoraSpec;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.RuntimeOptions;

/**
 * Keeps one loaded model per process, so the Fiji plugin and repeated CLI calls in one JVM create sessions once.
 * <p>
 * Asking for another folder, device or runtime options closes the previous model first (SD models take GBs). Models handed out are
 * owned by the cache: do not close them; call {@link #release()} to free the memory.
 */
public final class ModelCache {

	/** A cache of one's own (tests); front ends use {@link #shared()}. */
	public ModelCache() {}

	private static final ModelCache SHARED = new ModelCache();

	private StableDiffusionModel model;
	private Path folder;
	private RuntimeOptions options;
	private LoraSpec loras = LoraSpec.NONE;

	/** The process-wide cache. */
	public static ModelCache shared() {
		return SHARED;
	}

	/**
	 * The model in {@code folder} on {@code device} (auto, cpu or cuda) with the runtime options of the system
	 * properties; front ends that build their {@link RuntimeOptions} pass them to {@link #get(Path, RuntimeOptions)}.
	 */
	public synchronized StableDiffusionModel get(Path folder, String device) {
		return get(folder, RuntimeOptions.fromSystemProperties().withDevice(Device.parse(device)));
	}

	/**
	 * The model in {@code folder} with {@code options} (device, threads, memory handling), loading it if it is not the
	 * cached one: any change of folder or options reloads.
	 */
	public synchronized StableDiffusionModel get(Path folder, RuntimeOptions options) {
		return get(folder, options, LoraSpec.NONE);
	}

	/**
	 * The model with {@code loras} applied at their weights: sessions are cached by (folder, options, LoRAs and
	 * weights), so another LoRA set or weight reloads.
	 */
	public synchronized StableDiffusionModel get(Path folder, RuntimeOptions options, LoraSpec loras) {
		Path key = folder.toAbsolutePath().normalize();
		if (model != null && key.equals(this.folder) && options.equals(this.options) && loras.equals(this.loras)) {
			return model;
		}
		release();
		if (loras.isEmpty()) model = StableDiffusionModel.load(key, options);
		else {
			LoraSet set = new LoraSet(loras);
			StableDiffusionModel m = StableDiffusionModel.load(key, options, set); // owns the set from here on
			try {
				set.checkEveryLoraApplied();
			}
			catch (RuntimeException e) {
				m.close();
				throw e;
			}
			model = m;
		}
		this.folder = key;
		this.options = options;
		this.loras = loras;
		return model;
	}

	/** The cached model, or null. */
	public synchronized StableDiffusionModel current() {
		return model;
	}

	/** Closes the cached model, if any. */
	public synchronized void release() {
		if (model != null) {
			StableDiffusionModel m = model;
			model = null;
			folder = null;
			options = null;
			loras = LoraSpec.NONE;
			m.close();
		}
	}
}
