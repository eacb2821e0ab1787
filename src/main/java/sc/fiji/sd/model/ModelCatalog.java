package sc.fiji.sd.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.hub.HubCache;

/**
 * Every usable model on this machine: the Hugging Face cache's snapshots, the models folder of the application
 * ({@code Fiji.app/models}) and folders the user added; each described cheaply (configs and the UNet's declared input
 * type, no session) with its family, variant, weights type and size on disk.
 */
public final class ModelCatalog {

	/**
	 * A model found on disk.
	 *
	 * @param name what a chooser shows first: the repository id for cached downloads, else the folder name
	 * @param repo {@code org/name} for a model in the hub cache, else null
	 * @param folder the model folder (what Settings and {@code model=} take)
	 * @param source "hub cache", or the folder it was found in
	 * @param family "SD 1.x", "SD 2.x", "SDXL" or "other" (e.g. the small shipped model)
	 * @param variant "text to image", "inpainting" or "LCM"
	 * @param weights the UNet's element type: float32, float16 or unknown
	 * @param bytes size on disk (links followed)
	 */
	public record LocalModel(String name, String repo, Path folder, String source, String family, String variant,
		String weights, long bytes)
	{
		/** One line for a chooser or a listing. */
		public String label() {
			return name + "  [" + family + ", " + variant + ", " + weights + ", " + sc.fiji.sd.hub.DownloadPlan
				.humanBytes(bytes) + "]";
		}
	}

	private ModelCatalog() {}

	/** Models in the hub cache, then in each folder (a model folder itself, or a folder of model folders). */
	public static List<LocalModel> discover(HubCache cache, List<Path> folders) {
		List<LocalModel> found = new ArrayList<>();
		Set<Path> seen = new LinkedHashSet<>();
		for (HubCache.CachedModel m : cache.models()) {
			String name = m.repo() + (m.subfolder().isEmpty() ? "" : " (" + m.subfolder() + ")");
			describe(m.folder(), name, m.repo(), "hub cache").filter(l -> seen.add(key(l.folder()))).ifPresent(found::add);
		}
		for (Path folder : folders) {
			if (folder == null || !Files.isDirectory(folder)) continue;
			if (Files.isRegularFile(folder.resolve("model_index.json")) || Files.isDirectory(folder.resolve("unet"))) {
				describe(folder, folder.getFileName().toString(), null, folder.toString())
					.filter(l -> seen.add(key(l.folder()))).ifPresent(found::add);
				continue;
			}
			try (Stream<Path> children = Files.list(folder)) {
				for (Path c : (Iterable<Path>) children.filter(Files::isDirectory).sorted()::iterator)
					describe(c, c.getFileName().toString(), null, folder.toString())
						.filter(l -> seen.add(key(l.folder()))).ifPresent(found::add);
			}
			catch (IOException e) {
				// an unreadable folder holds no model we can use
			}
		}
		return found;
	}

	private static Path key(Path p) {
		try {
			return p.toRealPath();
		}
		catch (IOException e) {
			return p.toAbsolutePath().normalize();
		}
	}

	/** The description of a usable model folder, or empty when it is not one this plugin can load. */
	public static java.util.Optional<LocalModel> describe(Path folder, String name, String repo, String source) {
		try {
			StableDiffusionModel.validate(folder.toAbsolutePath().normalize());
		}
		catch (StableDiffusionException e) {
			return java.util.Optional.empty();
		}
		JsonObject index, unet, text, scheduler;
		try {
			index = StableDiffusionModel.readJson(folder.resolve("model_index.json"));
			unet = StableDiffusionModel.readJson(folder.resolve("unet/config.json"));
			text = StableDiffusionModel.readJson(folder.resolve("text_encoder/config.json"));
			scheduler = StableDiffusionModel.readJson(folder.resolve("scheduler/scheduler_config.json"));
		}
		catch (StableDiffusionException e) {
			return java.util.Optional.empty();
		}
		String pipeline = StableDiffusionModel.string(index, "_class_name", "");
		int width = number(unet, "cross_attention_dim", number(text, "hidden_size", 0));
		String family = Files.isDirectory(folder.resolve("text_encoder_2")) || width == 2048 ? "SDXL"
			: width == 768 ? "SD 1.x" : width == 1024 ? "SD 2.x" : "other";
		String variant = pipeline.contains("Inpaint") || number(unet, "in_channels", 4) == 9 ? "inpainting"
			: "LCMScheduler".equals(StableDiffusionModel.string(scheduler, "_class_name", "")) ? "LCM" : "text to image";
		String weights = OnnxInputTypes.elementType(folder.resolve("unet/model.onnx"), "sample").orElse("unknown");
		return java.util.Optional.of(new LocalModel(name, repo, folder, source, family, variant, weights, sizeOf(folder)));
	}

	private static int number(JsonObject o, String key, int fallback) {
		JsonElement e = o.get(key);
		try {
			return e != null && e.isJsonPrimitive() ? e.getAsInt() : fallback;
		}
		catch (NumberFormatException ex) {
			return fallback;
		}
	}

	/** Bytes of every file under the folder, links followed (a cache snapshot is all links). */
	static long sizeOf(Path folder) {
		try (Stream<Path> files = Files.walk(folder, java.nio.file.FileVisitOption.FOLLOW_LINKS)) {
			return files.filter(Files::isRegularFile).mapToLong(p -> {
				try {
					return Files.size(p);
				}
				catch (IOException e) {
					return 0;
				}
			}).sum();
		}
		catch (IOException | java.io.UncheckedIOException e) {
			return 0;
		}
	}
}
