package sc.fiji.sd.hub;

import java.util.regex.Pattern;

import sc.fiji.sd.StableDiffusionException;

/**
 * A Hugging Face model repository as users write it: {@code org/name}, optionally {@code @revision} (a branch, tag or
 * commit), optionally a subfolder that holds the ONNX export (e.g. {@code onnx}).
 *
 * @param repo {@code org/name}
 * @param revision branch, tag or commit; {@code main} by default
 * @param subfolder folder inside the repository that holds model_index.json; empty for the root
 */
public record RepoId(String repo, String revision, String subfolder) {

	public static final String DEFAULT_REVISION = "main";

	// The hub's own rule for repository names: letters, digits, '-', '_', '.'; no '--' or '..' (they would clash
	// with the cache folder's "models--org--name" separator).
	private static final Pattern PART = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,95}");

	public RepoId {
		String[] parts = repo == null ? new String[0] : repo.split("/", -1);
		if (parts.length != 2 || !valid(parts[0]) || !valid(parts[1]))
			throw new StableDiffusionException("\"" + repo + "\" is not a Hugging Face repository id: write it as "
				+ "org/name, e.g. onnx-community/stable-diffusion-v1-5-ONNX (optionally @revision).");
		revision = revision == null || revision.isBlank() ? DEFAULT_REVISION : revision.trim();
		if (revision.contains("..") || revision.startsWith("/") || revision.chars().anyMatch(Character::isWhitespace))
			throw new StableDiffusionException("\"" + revision + "\" is not a revision: give a branch, tag or commit.");
		subfolder = subfolder == null ? "" : subfolder.trim().replace('\\', '/').replaceAll("^/+|/+$", "");
		if (subfolder.contains("..")) throw new StableDiffusionException("The subfolder must stay inside the repository: "
			+ subfolder);
	}

	private static boolean valid(String part) {
		return PART.matcher(part).matches() && !part.contains("--") && !part.contains("..");
	}

	/** Parses {@code org/name[@revision]}. */
	public static RepoId parse(String text, String subfolder) {
		if (text == null) throw new StableDiffusionException("No repository id given: write org/name[@revision].");
		text = text.trim();
		int at = text.indexOf('@');
		return at < 0 ? new RepoId(text, null, subfolder)
			: new RepoId(text.substring(0, at), text.substring(at + 1), subfolder);
	}

	/** True when the text reads as {@code org/name[@revision]} (and not as a folder that exists: callers check that). */
	public static boolean looksLikeRepoId(String text) {
		if (text == null) return false;
		String t = text.trim();
		int at = t.indexOf('@');
		String repo = at < 0 ? t : t.substring(0, at);
		String[] parts = repo.split("/", -1);
		return parts.length == 2 && valid(parts[0]) && valid(parts[1]);
	}

	/** The cache folder's name: {@code models--org--name}. */
	public String cacheFolderName() {
		return "models--" + repo.replace("/", "--");
	}

	@Override
	public String toString() {
		return repo + (DEFAULT_REVISION.equals(revision) ? "" : "@" + revision)
			+ (subfolder.isEmpty() ? "" : " (subfolder " + subfolder + ")");
	}
}
