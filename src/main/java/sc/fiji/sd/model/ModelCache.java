package sc.fiji.sd.model;

import java.nio.file.Path;

import sc.fiji.sd.onnx.ExecutionProviders.Device;

/**
 * Keeps one loaded model per process, so the Fiji plugin and repeated CLI calls in one JVM create sessions once.
 * <p>
 * Asking for another folder or device closes the previous model first (SD models take GBs). Models handed out are
 * owned by the cache: do not close them; call {@link #release()} to free the memory.
 */
public final class ModelCache {

	/** A cache of one's own (tests); front ends use {@link #shared()}. */
	public ModelCache() {}

	private static final ModelCache SHARED = new ModelCache();

	private StableDiffusionModel model;
	private Path folder;
	private Device device;

	/** The process-wide cache. */
	public static ModelCache shared() {
		return SHARED;
	}

	/** The model in {@code folder} on {@code device} (auto, cpu or cuda), loading it if it is not the cached one. */
	public synchronized StableDiffusionModel get(Path folder, String device) {
		Path key = folder.toAbsolutePath().normalize();
		Device d = Device.parse(device);
		if (model != null && key.equals(this.folder) && d == this.device) return model;
		release();
		model = StableDiffusionModel.load(key, device);
		this.folder = key;
		this.device = d;
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
			device = null;
			m.close();
		}
	}
}
