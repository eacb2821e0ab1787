package sc.fiji.sd.hub;

/**
 * One file of a repository as the hub's tree API lists it.
 *
 * @param path path inside the repository
 * @param size size in bytes
 * @param gitOid the git blob id (the cache's blob name for files kept in git)
 * @param sha256 the LFS object id (sha256, the cache's blob name for LFS files), or null for files kept in git
 */
public record HubFile(String path, long size, String gitOid, String sha256) {

	public boolean lfs() { return sha256 != null; }

	/** The name of this file's blob in the cache: the sha256 for LFS files, the git blob id otherwise. */
	public String etag() { return lfs() ? sha256 : gitOid; }
}
