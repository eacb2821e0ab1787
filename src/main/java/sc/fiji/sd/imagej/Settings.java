package sc.fiji.sd.imagej;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import ij.Prefs;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.hub.ModelLocator;

/**
 * The model, device and adaptation folders the front ends use, shared by the Fiji commands and the ImageJ 1 plugins through ImageJ's
 * preferences (IJ_Prefs.txt), so choosing a model in one menu is seen by the other.
 *
 * @param modelFolder a diffusers/optimum ONNX export folder; empty means the model shipped with the plugin
 * @param device "auto", "cpu" or "cuda"
 * @param threads ONNX Runtime intra-op threads; 0 lets ONNX Runtime choose
 * @param loraFolder where {@code <lora:name:weight>} in prompts finds its LoRA files; empty: none
 * @param embeddingsFolder textual-inversion embeddings whose file names are words for prompts; empty: none
 */
public record Settings(String modelFolder, String device, int threads, String loraFolder, String embeddingsFolder) {

	public static final String[] DEVICES = { "auto", "cpu", "cuda" };

	private static final String KEY = "stable.diffusion.";

	public Settings {
		modelFolder = modelFolder == null ? "" : modelFolder.trim();
		loraFolder = loraFolder == null ? "" : loraFolder.trim();
		embeddingsFolder = embeddingsFolder == null ? "" : embeddingsFolder.trim();
		device = device == null || device.isBlank() ? "auto" : device.trim().toLowerCase();
		if (!java.util.Arrays.asList(DEVICES).contains(device))
			throw new StableDiffusionException("Unknown device \"" + device + "\": choose auto, cpu or cuda.");
		if (threads < 0) throw new StableDiffusionException("Threads must be 0 (automatic) or more, not " + threads + ".");
	}

	/** Model, device and threads; no LoRA or embeddings folder. */
	public Settings(String modelFolder, String device, int threads) {
		this(modelFolder, device, threads, "", "");
	}

	public static Settings defaults() {
		return new Settings("", "auto", 0);
	}

	/** These settings with another model folder (the folders for LoRAs and embeddings kept). */
	public Settings withModel(String folder) {
		return new Settings(folder, device, threads, loraFolder, embeddingsFolder);
	}

	/** The settings last saved (defaults when none). */
	public static Settings load() {
		try {
			return new Settings(Prefs.get(KEY + "model", ""), Prefs.get(KEY + "device", "auto"),
				(int) Prefs.get(KEY + "threads", 0), Prefs.get(KEY + "lora", ""), Prefs.get(KEY + "embeddings", ""));
		}
		catch (StableDiffusionException e) {
			return defaults(); // a hand-edited IJ_Prefs.txt must not lock the user out
		}
	}

	public void save() {
		Prefs.set(KEY + "model", modelFolder);
		Prefs.set(KEY + "device", device);
		Prefs.set(KEY + "threads", threads);
		Prefs.set(KEY + "lora", loraFolder);
		Prefs.set(KEY + "embeddings", embeddingsFolder);
	}

	/** The LoRA folder, checked to exist; null when none is set. */
	public Path loraPath() {
		return folder(loraFolder, "LoRA folder", "LoRA files (.safetensors) for <lora:name:weight> in prompts");
	}

	/** The embeddings folder, checked to exist; null when none is set. */
	public Path embeddingsPath() {
		return folder(embeddingsFolder, "embeddings folder", "textual-inversion embeddings (.safetensors)");
	}

	private static Path folder(String folder, String what, String holds) {
		if (folder.isEmpty()) return null;
		Path p = Paths.get(folder);
		if (!Files.isDirectory(p))
			throw new StableDiffusionException("The " + what + " " + p + " does not exist. Choose a folder of " + holds
				+ " in Plugins › Stable Diffusion › Stable Diffusion Settings..., or leave it empty.");
		return p;
	}

	/** True when the shipped model is used. */
	public boolean embeddedModel() {
		return modelFolder.isEmpty();
	}

	/**
	 * The model folder to load, checked to exist.
	 *
	 * @param embedded where the shipped model lives (returned when no folder is set; may be null to only check)
	 */
	public Path modelPath(Path embedded) {
		if (embeddedModel()) return embedded;
		Path folder = ModelLocator.resolve(modelFolder, ModelDownloads.environment.get()).orElse(Paths.get(modelFolder));
		if (!Files.isDirectory(folder))
			throw new StableDiffusionException("The model folder " + folder + " does not exist. Choose an ONNX model "
				+ "folder (with model_index.json) in Plugins › Stable Diffusion › Stable Diffusion Settings..., "
				+ "or leave it empty to use the model that comes with the plugin.");
		return folder;
	}
}
