package sc.fiji.sd.hub;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which files of a repository the pipeline needs: model_index.json and the component folders the ONNX pipeline reads
 * (text encoder, UNet, VAE, tokenizer, scheduler), with their ONNX external-data files; never PyTorch, Flax or
 * TensorFlow weights, which can be several gigabytes beside the ONNX export.
 */
public final class FileSelection {

	/** Component folders the pipeline loads (SDXL's second encoder and tokenizer too, so such an export is complete). */
	static final Set<String> COMPONENTS = Set.of("text_encoder", "text_encoder_2", "unet", "vae_encoder", "vae_decoder",
		"tokenizer", "tokenizer_2", "scheduler");

	/** Weights of other frameworks: skipped. */
	static final List<String> OTHER_WEIGHTS = List.of(".safetensors", ".bin", ".msgpack", ".h5", ".ckpt", ".pt", ".pth",
		".ot", ".tflite", ".mlmodel", ".mlpackage");

	private static final List<String> DOCUMENTS = List.of(".md", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".txt.orig");

	private FileSelection() {}

	/**
	 * Folders (relative to the repository root, "" for the root) that hold an ONNX export: model_index.json with
	 * unet/model.onnx beside it.
	 */
	public static List<String> exportFolders(List<HubFile> files) {
		Set<String> paths = new TreeSet<>();
		files.forEach(f -> paths.add(f.path()));
		List<String> folders = new ArrayList<>();
		for (String p : paths) {
			if (p.equals("model_index.json") || p.endsWith("/model_index.json")) {
				String folder = p.substring(0, p.length() - "model_index.json".length());
				if (paths.contains(folder + "unet/model.onnx")) folders.add(folder.replaceAll("/$", ""));
			}
		}
		return folders;
	}

	/**
	 * The files to download from {@code folder} ("" for the root).
	 *
	 * @throws HubException when the folder holds no ONNX export, naming folders that do
	 */
	public static List<HubFile> select(RepoId id, List<HubFile> files, String folder) {
		String prefix = folder.isEmpty() ? "" : folder + "/";
		List<HubFile> chosen = new ArrayList<>();
		for (HubFile f : files) {
			if (!f.path().startsWith(prefix)) continue;
			String rel = f.path().substring(prefix.length());
			if (needed(rel)) chosen.add(f);
		}
		boolean hasUnet = chosen.stream().anyMatch(f -> f.path().equals(prefix + "unet/model.onnx"));
		boolean hasIndex = chosen.stream().anyMatch(f -> f.path().equals(prefix + "model_index.json"));
		if (!hasUnet || !hasIndex) {
			List<String> elsewhere = exportFolders(files);
			String where = folder.isEmpty() ? "" : " in the folder " + folder;
			throw new HubException(HubException.Kind.NOT_ONNX, id.repo() + "@" + id.revision() + " holds no diffusers "
				+ "ONNX export" + where + " (model_index.json with unet/model.onnx). "
				+ (elsewhere.isEmpty() ? "Choose a repository with an ONNX export, another revision (org/name@onnx), or "
					+ "export one with: optimum-cli export onnx --model " + id.repo() + " <folder>."
					: "It has one in " + describe(elsewhere) + ": give that as the subfolder."));
		}
		return chosen;
	}

	private static String describe(List<String> folders) {
		List<String> named = new ArrayList<>();
		folders.forEach(f -> named.add(f.isEmpty() ? "the repository's root" : "\"" + f + "\""));
		return String.join(", ", named);
	}

	/** True for a file (path relative to the export folder) that the pipeline reads. */
	static boolean needed(String rel) {
		String lower = rel.toLowerCase(Locale.ROOT);
		if (rel.equals("model_index.json")) return true;
		int slash = rel.indexOf('/');
		if (slash < 0 || !COMPONENTS.contains(rel.substring(0, slash))) return false;
		for (String ext : OTHER_WEIGHTS) if (lower.endsWith(ext)) return false;
		for (String ext : DOCUMENTS) if (lower.endsWith(ext)) return false;
		// Everything else in a component folder: model.onnx, its external data (model.onnx_data, weights.pb, ...),
		// config.json, the tokenizer's vocabulary and the scheduler's config.
		return true;
	}
}
