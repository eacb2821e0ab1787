package sc.fiji.sd.hub;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import sc.fiji.sd.StableDiffusionException;

/**
 * Turns what a user or macro names as the model into a folder: a folder that exists is taken as is; otherwise a
 * Hugging Face repository id ({@code org/name[@revision]}) is looked up in the hub cache, so
 * {@code model=[org/name]} works on any machine that downloaded that model. Nothing is downloaded here.
 */
public final class ModelLocator {

	private ModelLocator() {}

	/**
	 * The folder the text names, or empty when it names neither an existing folder nor a repository id (the caller's
	 * own "folder does not exist" message then applies).
	 *
	 * @throws StableDiffusionException for a repository id that is not in the cache, saying how to download it
	 */
	public static Optional<Path> resolve(String text, HubEnvironment env) {
		if (text == null || text.isBlank()) return Optional.empty();
		Path asFolder;
		try {
			asFolder = Path.of(text.trim());
			if (Files.isDirectory(asFolder)) return Optional.of(asFolder);
		}
		catch (java.nio.file.InvalidPathException e) {
			// not a path: may still be a repository id
		}
		if (!RepoId.looksLikeRepoId(text)) return Optional.empty();
		RepoId id = RepoId.parse(text, null);
		HubCache cache = new HubCache(env.cache());
		Optional<Path> cached = cache.cachedModel(id);
		if (cached.isPresent()) return cached;
		// An export in a subfolder of the snapshot (e.g. onnx/): the only one there.
		Optional<String> commit = cache.commitOf(id);
		if (commit.isPresent()) {
			var inSnapshot = cache.models().stream()
				.filter(m -> m.repo().equals(id.repo()) && m.commit().equals(commit.get())).toList();
			if (inSnapshot.size() == 1) return Optional.of(inSnapshot.get(0).folder());
		}
		throw new StableDiffusionException("The model " + id.repo() + "@" + id.revision() + " is not downloaded (not in "
			+ env.cache() + "). Download it with Plugins › Stable Diffusion › Download Model... or "
			+ "\"stable-diffusion download " + text.trim() + "\", or give a model folder.");
	}
}
