package sc.fiji.sd.hub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The Hugging Face cache layout, shared with Python tools: {@code models--org--name/blobs/<etag>} (the file's
 * content), {@code snapshots/<commit>/<path>} (relative symbolic links into blobs/), {@code refs/<revision>} (the
 * commit a branch or tag pointed to when last downloaded).
 */
public final class HubCache {

	private final Path root;

	public HubCache(Path root) {
		this.root = root;
	}

	public Path root() { return root; }

	public Path repoFolder(RepoId id) { return root.resolve(id.cacheFolderName()); }

	public Path blob(RepoId id, String etag) { return repoFolder(id).resolve("blobs").resolve(etag); }

	public Path incomplete(RepoId id, String etag) { return repoFolder(id).resolve("blobs").resolve(etag + ".incomplete"); }

	public Path snapshot(RepoId id, String commit) { return repoFolder(id).resolve("snapshots").resolve(commit); }

	/** The commit a revision pointed to when it was last downloaded (a commit id is its own answer). */
	public Optional<String> commitOf(RepoId id) {
		Path ref = repoFolder(id).resolve("refs").resolve(id.revision());
		try {
			if (Files.isRegularFile(ref)) return Optional.of(Files.readString(ref, StandardCharsets.UTF_8).trim());
		}
		catch (IOException e) {
			return Optional.empty();
		}
		if (id.revision().matches("[0-9a-f]{40}") && Files.isDirectory(snapshot(id, id.revision())))
			return Optional.of(id.revision());
		return Optional.empty();
	}

	/** The cached model folder for a repository id (snapshot + subfolder), when it holds model_index.json. */
	public Optional<Path> cachedModel(RepoId id) {
		return commitOf(id).map(c -> folderIn(snapshot(id, c), id.subfolder()))
			.filter(p -> Files.isRegularFile(p.resolve("model_index.json")));
	}

	private static Path folderIn(Path snapshot, String subfolder) {
		return subfolder.isEmpty() ? snapshot : snapshot.resolve(subfolder);
	}

	void writeRef(RepoId id, String commit) throws IOException {
		if (id.revision().equals(commit)) return;
		Path ref = repoFolder(id).resolve("refs").resolve(id.revision());
		Files.createDirectories(ref.getParent());
		Path tmp = ref.resolveSibling(ref.getFileName() + ".tmp");
		Files.writeString(tmp, commit, StandardCharsets.UTF_8);
		Files.move(tmp, ref, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
	}

	/**
	 * Links {@code snapshots/<commit>/<path>} to its blob with a relative link, as huggingface_hub does; where the
	 * file system refuses links (Windows without developer mode) the blob is copied instead.
	 */
	void link(RepoId id, String commit, String path, String etag) throws IOException {
		Path target = snapshot(id, commit).resolve(path);
		Files.createDirectories(target.getParent());
		Path blob = blob(id, etag);
		if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
			if (Files.isSymbolicLink(target) && Files.exists(target)
				&& Files.isSameFile(target, blob)) return;
			Files.delete(target);
		}
		try {
			Files.createSymbolicLink(target, target.getParent().relativize(blob));
		}
		catch (UnsupportedOperationException | IOException e) {
			Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
			Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING);
			Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
		}
	}

	/** Model folders in the cache: each snapshot (or a folder in it) with model_index.json and unet/model.onnx. */
	public List<CachedModel> models() {
		List<CachedModel> found = new ArrayList<>();
		if (!Files.isDirectory(root)) return found;
		try (Stream<Path> repos = Files.list(root)) {
			for (Path repo : (Iterable<Path>) repos.sorted()::iterator) {
				String name = repo.getFileName().toString();
				if (!name.startsWith("models--") || !Files.isDirectory(repo.resolve("snapshots"))) continue;
				String repoId = name.substring("models--".length()).replaceFirst("--", "/");
				try (Stream<Path> snaps = Files.list(repo.resolve("snapshots"))) {
					for (Path snap : (Iterable<Path>) snaps.sorted()::iterator) {
						try (Stream<Path> indexes = Files.find(snap, 3,
							(p, a) -> p.getFileName().toString().equals("model_index.json"))) {
							indexes.map(Path::getParent).filter(f -> Files.exists(f.resolve("unet/model.onnx"))).sorted()
								.forEach(f -> found.add(new CachedModel(repoId, snap.getFileName().toString(),
									snap.relativize(f).toString().replace('\\', '/'), f)));
						}
					}
				}
			}
		}
		catch (IOException e) {
			throw new UncheckedIOException(e);
		}
		return found;
	}

	/**
	 * A model found in the cache.
	 *
	 * @param repo {@code org/name}
	 * @param commit the snapshot's commit
	 * @param subfolder the export's folder inside the snapshot ("" for the root)
	 * @param folder the model folder
	 */
	public record CachedModel(String repo, String commit, String subfolder, Path folder) {}
}
