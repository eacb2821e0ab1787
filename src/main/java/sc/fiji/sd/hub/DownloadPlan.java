package sc.fiji.sd.hub;

import java.util.List;

/**
 * What a download will fetch, known before the first byte: shown to the user with its total size.
 *
 * @param id the repository
 * @param commit the commit the revision points to (the snapshot's name)
 * @param folder the folder of the export inside the repository ("" for the root)
 * @param files the files the pipeline needs
 * @param totalBytes their size
 * @param missingBytes what still has to come over the network (files already in the cache and resumed parts excluded)
 */
public record DownloadPlan(RepoId id, String commit, String folder, List<HubFile> files, long totalBytes,
	long missingBytes) {

	public static String humanBytes(long bytes) {
		if (bytes < 1024) return bytes + " B";
		String[] units = { "KB", "MB", "GB", "TB" };
		double v = bytes;
		int u = -1;
		do {
			v /= 1024;
			u++;
		}
		while (v >= 1024 && u < units.length - 1);
		return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
	}

	public String describe() {
		return id.repo() + "@" + id.revision() + (folder.isEmpty() ? "" : " (" + folder + "/)") + ": " + files.size()
			+ " files, " + humanBytes(totalBytes) + (missingBytes < totalBytes ? " (" + humanBytes(missingBytes)
				+ " still to download)" : "");
	}
}
