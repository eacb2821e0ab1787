package sc.fiji.sd.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * Downloads a diffusers ONNX export from a Hugging Face hub into the shared cache: the file list from the hub's API,
 * each file from its {@code resolve} URL (redirects to a CDN followed by hand, so the token never goes to another
 * host and the hub's own headers are read from the first response), resumed with HTTP ranges from
 * {@code blobs/<etag>.incomplete}, LFS files checked against the sha256 the hub names in {@code X-Linked-Etag}, and
 * linked into {@code snapshots/<commit>/} only once complete and checked.
 */
public final class HubClient {

	private static final int BUFFER = 1 << 16;
	private static final int MAX_REDIRECTS = 5;
	private static final int MAX_PAGES = 100;
	private static final long PROGRESS_INTERVAL_NANOS = 100_000_000L;
	private static final Pattern NEXT_LINK = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"next\"");

	private final HubEnvironment env;
	private final HubCache cache;
	private final HttpClient http;
	private final Storage storage;

	public HubClient(HubEnvironment env) {
		this(env, Storage.FILES);
	}

	public HubClient(HubEnvironment env, Storage storage) {
		this.env = env;
		this.cache = new HubCache(env.cache());
		this.storage = storage;
		// Redirects by hand: the Authorization header must not follow a redirect to another host (the CDN), and the
		// hub's X-Linked-Etag is on the first response only.
		this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
			.connectTimeout(Duration.ofSeconds(20)).build();
	}

	public HubCache cache() { return cache; }

	/** The repository's file list at a revision and the commit it points to. */
	public record Listing(String commit, List<HubFile> files) {}

	/** Asks the hub what the revision holds. */
	public Listing list(RepoId id, CancelToken cancel) {
		refuseOffline(id);
		String rev = encode(id.revision());
		JsonObject info = getJson(env.endpoint() + "/api/models/" + id.repo() + "/revision/" + rev, id, cancel)
			.getAsJsonObject();
		String commit = info.has("sha") ? info.get("sha").getAsString() : id.revision();
		List<HubFile> files = new ArrayList<>();
		String url = env.endpoint() + "/api/models/" + id.repo() + "/tree/" + encode(commit) + "?recursive=true";
		for (int page = 0; url != null; page++) {
			if (page >= MAX_PAGES) throw new HubException(HubException.Kind.SERVER, "The hub's file list for " + id.repo()
				+ " has more than " + MAX_PAGES + " pages; that is not a single model.");
			HttpResponse<String> r = send(get(url, true), HttpResponse.BodyHandlers.ofString(), id, null, cancel);
			for (JsonElement e : JsonParser.parseString(r.body()).getAsJsonArray()) {
				JsonObject o = e.getAsJsonObject();
				if (!"file".equals(string(o, "type", "file"))) continue;
				JsonObject lfs = o.has("lfs") && o.get("lfs").isJsonObject() ? o.getAsJsonObject("lfs") : null;
				files.add(checked(id, new HubFile(o.get("path").getAsString(), o.has("size") ? o.get("size").getAsLong() : 0,
					string(o, "oid", null), lfs == null ? null : string(lfs, "oid", null))));
			}
			url = nextPage(r.headers());
		}
		return new Listing(commit, files);
	}

	/**
	 * Paths and blob names come from the server and become file names in the cache: a path must stay inside the
	 * snapshot and a blob name must be a hash, whatever a (mis)configured HF_ENDPOINT sends.
	 */
	private static HubFile checked(RepoId id, HubFile f) {
		String p = f.path();
		boolean pathOk = !p.isEmpty() && !p.startsWith("/") && !p.contains("\\") && !p.contains(":")
			&& java.util.Arrays.stream(p.split("/")).noneMatch(part -> part.isEmpty() || part.equals(".")
				|| part.equals(".."));
		boolean etagOk = f.etag() != null && f.etag().matches("[0-9a-fA-F]{40}|[0-9a-fA-F]{64}");
		if (!pathOk || !etagOk || f.size() < 0) throw new HubException(HubException.Kind.SERVER, "The hub's file list "
			+ "for " + id.repo() + " names a file this plugin will not write (" + p + ", " + f.etag() + "): is HF_ENDPOINT "
			+ "a Hugging Face hub?");
		return f;
	}

	/** Lists the repository, picks the files the pipeline needs and works out what is already in the cache. */
	public DownloadPlan plan(RepoId id, CancelToken cancel) {
		Listing listing = list(id, cancel);
		String folder = id.subfolder();
		if (folder.isEmpty()) {
			// An export in a subfolder (often "onnx/") is found when the root has none.
			List<String> exports = FileSelection.exportFolders(listing.files());
			if (!exports.contains("") && exports.size() == 1) folder = exports.get(0);
		}
		List<HubFile> files = FileSelection.select(id, listing.files(), folder);
		long total = 0, missing = 0;
		for (HubFile f : files) {
			total += f.size();
			if (Files.isRegularFile(cache.blob(id, f.etag()))) continue;
			missing += f.size() - sizeOf(cache.incomplete(id, f.etag()));
		}
		return new DownloadPlan(id, listing.commit(), folder, files, total, Math.max(0, missing));
	}

	/**
	 * Downloads what the plan lists (resuming partial files), links the snapshot and returns the model folder.
	 *
	 * @throws HubException with a message for the user (offline, refused, not found, checksum, disk full, cancelled)
	 */
	public Path download(DownloadPlan plan, DownloadListener listener, CancelToken cancel) {
		RepoId id = plan.id();
		checkFreeSpace(plan);
		listener.planned(plan);
		Transfer transfer = new Transfer(plan, listener);
		cancel.start();
		try {
			for (HubFile f : plan.files()) {
				cancel.check();
				if (!Files.isRegularFile(cache.blob(id, f.etag()))) fetch(plan, f, transfer, cancel);
				else {
					transfer.alreadyThere(f);
					listener.message(f.path() + " is already in the cache");
				}
			}
			// Links only after every file is complete: a snapshot folder never points at a missing or partial blob.
			for (HubFile f : plan.files()) cache.link(id, plan.commit(), f.path(), f.etag());
			cache.writeRef(id, plan.commit());
			transfer.report(null, true);
			Path snapshot = cache.snapshot(id, plan.commit());
			return plan.folder().isEmpty() ? snapshot : snapshot.resolve(plan.folder());
		}
		catch (IOException e) {
			throw storageProblem(e, id);
		}
		finally {
			cancel.finish();
		}
	}

	/** {@link #plan} then {@link #download}; offline, the cached model. */
	public Path download(RepoId id, DownloadListener listener, CancelToken cancel) {
		if (env.offline()) return cache.cachedModel(id).orElseThrow(() -> offlineMissing(id));
		return download(plan(id, cancel), listener, cancel);
	}

	private void checkFreeSpace(DownloadPlan plan) {
		try {
			long free = storage.usableBytes(cache.root());
			if (free < plan.missingBytes()) throw new HubException(HubException.Kind.DISK_FULL, "Not enough free disk "
				+ "space for " + plan.id().repo() + ": " + DownloadPlan.humanBytes(plan.missingBytes()) + " to download, "
				+ DownloadPlan.humanBytes(free) + " free in " + cache.root() + ". Free some space, or point HF_HUB_CACHE "
				+ "(or HF_HOME) at a larger disk.");
		}
		catch (IOException e) {
			// an unknown free space does not stop the download; a full disk is reported when it happens
		}
	}

	/** Fetches one file into {@code blobs/<etag>}, resuming its {@code .incomplete}. */
	private void fetch(DownloadPlan plan, HubFile file, Transfer transfer, CancelToken cancel) throws IOException {
		RepoId id = plan.id();
		Path incomplete = cache.incomplete(id, file.etag());
		Files.createDirectories(incomplete.getParent());
		String url = env.endpoint() + "/" + id.repo() + "/resolve/" + encode(plan.commit()) + "/" + encodePath(file.path());
		long have = sizeOf(incomplete);
		if (have > file.size()) {
			Files.delete(incomplete); // longer than the file: not ours to resume
			have = 0;
		}
		HttpResponse<InputStream> r = open(url, have, id, file, cancel);
		try (InputStream in = r.body()) {
			cancel.attach(in);
			boolean append = r.statusCode() == 206;
			if (!append) have = 0; // the server ignored the range: start over
			transfer.resumedAt(file, have);
			MessageDigest digest = digest(file);
			if (append && digest != null) hashExisting(incomplete, digest);
			try (OutputStream out = storage.open(incomplete, append)) {
				byte[] buf = new byte[BUFFER];
				int n;
				while ((n = in.read(buf)) >= 0) {
					cancel.check();
					out.write(buf, 0, n);
					if (digest != null) digest.update(buf, 0, n);
					transfer.add(file, n);
				}
			}
			cancel.check();
			verify(id, file, incomplete, digest);
			Files.move(incomplete, cache.blob(id, file.etag()), StandardCopyOption.ATOMIC_MOVE,
				StandardCopyOption.REPLACE_EXISTING);
		}
		catch (IOException e) {
			if (cancel.cancelled()) cancel.check();
			if (e instanceof InterruptedIOException || e instanceof ClosedByInterruptException) cancel.check();
			if (isDiskFull(e)) throw diskFull(id, e);
			throw new HubException(HubException.Kind.SERVER, "The transfer of " + file.path() + " broke off ("
				+ reason(e) + "). Run the download again: it resumes where it stopped.", e);
		}
	}

	/** Follows the resolve URL's redirects by hand; the first response's hub headers identify the file. */
	private HttpResponse<InputStream> open(String url, long from, RepoId id, HubFile file, CancelToken cancel) {
		URI first = URI.create(url);
		URI current = first;
		for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
			HttpRequest.Builder b = HttpRequest.newBuilder(current).GET();
			if (sameOrigin(first, current) && env.token() != null) b.header("Authorization", "Bearer " + env.token());
			if (from > 0) b.header("Range", "bytes=" + from + "-");
			HttpResponse<InputStream> r = send(b.build(), HttpResponse.BodyHandlers.ofInputStream(), id, file.path(), cancel);
			if (hop == 0) checkLinkedEtag(id, file, r.headers());
			int status = r.statusCode();
			if (status >= 300 && status < 400) {
				String location = r.headers().firstValue("Location").orElseThrow(() -> new HubException(
					HubException.Kind.SERVER, "The hub redirected " + file.path() + " without saying where to."));
				closeQuietly(r.body());
				current = current.resolve(location);
				continue;
			}
			if (status == 416) { // the range starts at the end: the partial file was complete or stale; start over
				closeQuietly(r.body());
				if (from == 0) throw new HubException(HubException.Kind.SERVER, "The server refused to send " + file.path());
				try {
					Files.deleteIfExists(cache.incomplete(id, file.etag()));
				}
				catch (IOException e) {
					throw storageProblem(e, id);
				}
				return open(url, 0, id, file, cancel);
			}
			return r;
		}
		throw new HubException(HubException.Kind.SERVER, "Too many redirects for " + file.path() + ".");
	}

	/** The hub names an LFS file by its sha256 in X-Linked-Etag; a different one means the listing is out of date. */
	private static void checkLinkedEtag(RepoId id, HubFile file, HttpHeaders headers) {
		if (!file.lfs()) return;
		Optional<String> linked = headers.firstValue("X-Linked-Etag").map(HubClient::stripEtag);
		if (linked.isPresent() && !linked.get().equalsIgnoreCase(file.sha256()))
			throw new HubException(HubException.Kind.CHECKSUM, "The hub's checksum for " + file.path() + " ("
				+ linked.get() + ") differs from its file list (" + file.sha256() + "): the revision changed while "
				+ "downloading. Run the download again.");
	}

	static String stripEtag(String etag) {
		String e = etag.trim();
		if (e.startsWith("W/")) e = e.substring(2);
		return e.replace("\"", "");
	}

	private static MessageDigest digest(HubFile file) {
		try {
			if (file.lfs()) return MessageDigest.getInstance("SHA-256");
			if (file.gitOid() != null && file.gitOid().matches("[0-9a-f]{40}")) {
				// A git blob id is sha1("blob <size>\0" + content).
				MessageDigest d = MessageDigest.getInstance("SHA-1");
				d.update(("blob " + file.size() + "\0").getBytes(StandardCharsets.US_ASCII));
				return d;
			}
			return null;
		}
		catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException(e);
		}
	}

	private static void hashExisting(Path file, MessageDigest digest) throws IOException {
		try (InputStream in = Files.newInputStream(file)) {
			byte[] buf = new byte[BUFFER];
			int n;
			while ((n = in.read(buf)) >= 0) digest.update(buf, 0, n);
		}
	}

	private static void verify(RepoId id, HubFile file, Path incomplete, MessageDigest digest) throws IOException {
		long size = Files.size(incomplete);
		String expected = file.lfs() ? file.sha256() : file.gitOid();
		String actual = digest == null ? null : HexFormat.of().formatHex(digest.digest());
		boolean sizeOk = size == file.size();
		if (sizeOk && (actual == null || actual.equalsIgnoreCase(expected))) return;
		Files.deleteIfExists(incomplete); // a wrong file must not be resumed either
		throw new HubException(HubException.Kind.CHECKSUM, "The downloaded " + file.path() + " of " + id.repo()
			+ (sizeOk ? " does not match its checksum (expected " + expected + ", got " + actual + ")"
				: " has " + size + " bytes instead of " + file.size())
			+ ". It was deleted; run the download again (a proxy or a broken connection can cause this).");
	}

	private JsonElement getJson(String url, RepoId id, CancelToken cancel) {
		return JsonParser.parseString(send(get(url, true), HttpResponse.BodyHandlers.ofString(), id, null, cancel).body());
	}

	private HttpRequest get(String url, boolean auth) {
		HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).GET().header("Accept", "application/json");
		if (auth && env.token() != null) b.header("Authorization", "Bearer " + env.token());
		return b.build();
	}

	/** Sends, turning network failures and the hub's error statuses into messages for the user. */
	private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body, RepoId id, String path,
		CancelToken cancel)
	{
		cancel.check();
		HttpResponse<T> r;
		try {
			r = http.send(request, body);
		}
		catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			cancel.check();
			throw new HubException(HubException.Kind.CANCELLED, "Download interrupted.");
		}
		catch (ConnectException | UnknownHostException | HttpConnectTimeoutException e) {
			cancel.check();
			throw new HubException(HubException.Kind.OFFLINE, "Cannot reach " + request.uri().getHost() + ":"
				+ request.uri().getPort() + " (" + e.getClass().getSimpleName() + "). Check the network connection or "
				+ "proxy; without a network, models already in the cache still work (HF_HUB_OFFLINE=1).", e);
		}
		catch (HttpTimeoutException e) {
			throw new HubException(HubException.Kind.OFFLINE, "The hub did not answer in time: " + e.getMessage(), e);
		}
		catch (IOException e) {
			cancel.check();
			throw new HubException(HubException.Kind.OFFLINE, "Cannot talk to " + request.uri().getHost() + ": "
				+ e.getMessage() + ". Check the network connection or proxy.", e);
		}
		int status = r.statusCode();
		if (status < 400) return r;
		if (r.body() instanceof InputStream in) closeQuietly(in);
		throw statusError(status, r.headers().firstValue("X-Error-Code").orElse(""), id, path);
	}

	private HubException statusError(int status, String code, RepoId id, String path) {
		String what = id.repo() + (path == null ? "" : " file " + path);
		String token = env.token() == null ? "Set HF_TOKEN to an access token from huggingface.co/settings/tokens"
			: "Your HF_TOKEN was sent; check that it is valid and has read access";
		if ("GatedRepo".equals(code) || status == 403) return new HubException(HubException.Kind.GATED, id.repo()
			+ " is gated: accept its conditions on its page on the hub, then " + (env.token() == null
				? "set HF_TOKEN to an access token from huggingface.co/settings/tokens."
				: "check that your HF_TOKEN belongs to the account that accepted them."));
		if ("RevisionNotFound".equals(code)) return new HubException(HubException.Kind.NOT_FOUND, id.repo()
			+ " has no revision \"" + id.revision() + "\": give an existing branch, tag or commit.");
		if ("EntryNotFound".equals(code)) return new HubException(HubException.Kind.NOT_FOUND, "The hub lists " + what
			+ " but cannot serve it (EntryNotFound). Try again later or another revision.");
		if ("RepoNotFound".equals(code) || status == 404) return new HubException(HubException.Kind.NOT_FOUND,
			"No repository " + id.repo() + " on " + env.endpoint() + ". Check the spelling (org/name); if it is "
				+ "private: " + token + ".");
		if (status == 401) return new HubException(HubException.Kind.UNAUTHORIZED, "The hub refused access to " + what
			+ " (401). " + token + ".");
		return new HubException(HubException.Kind.SERVER, "The hub answered " + status + (code.isEmpty() ? "" : " ("
			+ code + ")") + " for " + what + ". Try again later.");
	}

	private void refuseOffline(RepoId id) {
		if (env.offline()) throw offlineMissing(id);
	}

	private HubException offlineMissing(RepoId id) {
		return new HubException(HubException.Kind.OFFLINE, "HF_HUB_OFFLINE is set, so nothing is downloaded, and "
			+ id.repo() + "@" + id.revision() + " is not in the cache (" + cache.root() + "). Unset HF_HUB_OFFLINE to "
			+ "download it, or choose a model that is cached.");
	}

	private HubException storageProblem(IOException e, RepoId id) {
		if (isDiskFull(e)) return diskFull(id, e);
		return new HubException(HubException.Kind.SERVER, "Cannot write to the cache " + cache.root() + ": "
			+ e.getMessage(), e);
	}

	private HubException diskFull(RepoId id, IOException e) {
		return new HubException(HubException.Kind.DISK_FULL, "The disk is full (" + cache.root() + "): free some "
			+ "space, or point HF_HUB_CACHE at a larger disk, then run the download of " + id.repo() + " again: it "
			+ "resumes where it stopped.", e);
	}

	/** The most telling message of a broken transfer ("closed" says less than its cause). */
	private static String reason(Throwable e) {
		Throwable t = e;
		while (t.getCause() != null && ("closed".equals(t.getMessage()) || t.getMessage() == null)) t = t.getCause();
		return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
	}

	static boolean isDiskFull(Throwable e) {
		for (Throwable t = e; t != null; t = t.getCause()) {
			String m = t.getMessage();
			if (m != null && (m.contains("No space left") || m.toLowerCase(Locale.ROOT).contains("disk full")
				|| m.contains("not enough space"))) return true;
		}
		return false;
	}

	private static boolean sameOrigin(URI a, URI b) {
		return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost().equalsIgnoreCase(b.getHost())
			&& port(a) == port(b);
	}

	private static int port(URI u) {
		return u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
	}

	private String nextPage(HttpHeaders headers) {
		for (String link : headers.allValues("Link")) {
			Matcher m = NEXT_LINK.matcher(link);
			if (m.find()) return URI.create(env.endpoint() + "/").resolve(m.group(1)).toString();
		}
		return null;
	}

	static String encode(String s) {
		return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
	}

	static String encodePath(String path) {
		String[] parts = path.split("/");
		for (int i = 0; i < parts.length; i++) parts[i] = encode(parts[i]);
		return String.join("/", parts);
	}

	private static String string(JsonObject o, String key, String fallback) {
		return o.has(key) && o.get(key).isJsonPrimitive() ? o.get(key).getAsString() : fallback;
	}

	private static long sizeOf(Path p) {
		try {
			return Files.isRegularFile(p) ? Files.size(p) : 0;
		}
		catch (IOException e) {
			return 0;
		}
	}

	private static void closeQuietly(InputStream in) {
		try {
			in.close();
		}
		catch (IOException e) {
			// nothing to do: the response is abandoned
		}
	}

	/** Counts bytes and reports progress at most ten times a second. */
	private static final class Transfer {
		private final DownloadPlan plan;
		private final DownloadListener listener;
		private final long start = System.nanoTime();
		private long done;
		private long fetchedThisRun;
		private long lastReport;

		Transfer(DownloadPlan plan, DownloadListener listener) {
			this.plan = plan;
			this.listener = listener;
		}

		void alreadyThere(HubFile f) {
			done += f.size();
			report(f.path(), false);
		}

		void resumedAt(HubFile f, long offset) {
			done += offset;
			report(f.path(), true);
		}

		void add(HubFile f, int n) {
			done += n;
			fetchedThisRun += n;
			report(f.path(), false);
		}

		void report(String file, boolean force) {
			long now = System.nanoTime();
			if (!force && now - lastReport < PROGRESS_INTERVAL_NANOS) return;
			lastReport = now;
			double seconds = (now - start) / 1e9;
			double rate = seconds > 0 ? fetchedThisRun / seconds : 0;
			long left = Math.max(0, plan.totalBytes() - done);
			listener.progress(new DownloadListener.Progress(done, plan.totalBytes(), rate,
				rate > 0 ? left / rate : left == 0 ? 0 : -1, file));
		}
	}
}
