package sc.fiji.sd.hub;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A local imitation of the Hugging Face hub's API shape for the tests (never the real hub): a hub server with the
 * model API and {@code resolve} URLs, and a second server on another port standing in for the CDN that LFS files are
 * redirected to. Both listen on 127.0.0.1 only. Behaviours (a token, a gate, a cut transfer, a wrong checksum, a slow
 * server) are switched per test.
 */
public final class FakeHub implements AutoCloseable {

	public static final String REPO = "test-org/tiny-sd-shapes";
	public static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

	/** A request as the servers saw it. */
	public record Seen(String server, String path, String range, String authorization) {}

	private final HttpServer hub;
	private final HttpServer cdn;
	private final ExecutorService pool = Executors.newFixedThreadPool(8);
	private final Map<String, byte[]> files = new LinkedHashMap<>();
	private final Map<String, String> sha256 = new ConcurrentHashMap<>();
	private final String prefix;

	public final List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
	public volatile String requiredToken;
	public volatile boolean gated;
	/** Cut the first CDN transfer of a file larger than this, after this many bytes (-1: never). */
	public volatile long cutAfter = -1;
	public final Set<String> cut = ConcurrentHashMap.newKeySet();
	/** Files whose CDN bytes are corrupted (one byte flipped). */
	public final Set<String> corrupt = ConcurrentHashMap.newKeySet();
	/** Milliseconds between 4 KB chunks on the CDN. */
	public volatile long slowMillis;
	/** Entries per page of the tree listing (the hub paginates with a Link header). */
	public volatile int pageSize = 1000;

	/**
	 * Serves the model folder as repository {@link #REPO} at {@code prefix} ("" or e.g. "onnx/"), with a PyTorch
	 * weights file beside the UNet and a README that a download must skip.
	 */
	public FakeHub(Path modelFolder, String prefix) throws IOException {
		this.prefix = prefix;
		try (Stream<Path> walk = Files.walk(modelFolder)) {
			for (Path p : (Iterable<Path>) walk.filter(Files::isRegularFile).sorted()::iterator)
				files.put(prefix + modelFolder.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
		}
		files.put(prefix + "unet/diffusion_pytorch_model.safetensors", new byte[4096]);
		files.put("README.md", "# test".getBytes(StandardCharsets.UTF_8));
		InetAddress loopback = InetAddress.getLoopbackAddress();
		hub = HttpServer.create(new InetSocketAddress(loopback, 0), 0);
		cdn = HttpServer.create(new InetSocketAddress(loopback, 0), 0);
		hub.createContext("/", this::hub);
		cdn.createContext("/", this::cdn);
		hub.setExecutor(pool);
		cdn.setExecutor(pool);
		hub.start();
		cdn.start();
	}

	public String endpoint() { return "http://127.0.0.1:" + hub.getAddress().getPort(); }

	/** The environment of a user whose HF_ENDPOINT is this server and whose HF_HUB_CACHE is {@code cache}. */
	public HubEnvironment environment(Path cache) {
		return HubEnvironment.from(Map.of("HF_ENDPOINT", endpoint(), "HF_HUB_CACHE", cache.toString()), cache);
	}

	public int cdnPort() { return cdn.getAddress().getPort(); }

	public Map<String, byte[]> files() { return files; }

	static boolean lfs(String path) { return path.endsWith(".onnx") || path.endsWith(".safetensors"); }

	String sha256(String path) {
		return sha256.computeIfAbsent(path, p -> hex("SHA-256", files.get(p), null));
	}

	static String gitOid(byte[] content) {
		return hex("SHA-1", content, ("blob " + content.length + "\0").getBytes(StandardCharsets.US_ASCII));
	}

	private static String hex(String algorithm, byte[] content, byte[] header) {
		try {
			MessageDigest d = MessageDigest.getInstance(algorithm);
			if (header != null) d.update(header);
			return HexFormat.of().formatHex(d.digest(content));
		}
		catch (Exception e) {
			throw new IllegalStateException(e);
		}
	}

	public List<Seen> seenOn(String server) {
		synchronized (seen) {
			return seen.stream().filter(s -> s.server.equals(server)).toList();
		}
	}

	private void hub(HttpExchange x) throws IOException {
		try (x) {
			String path = x.getRequestURI().getRawPath();
			seen.add(new Seen("hub", path, x.getRequestHeaders().getFirst("Range"),
				x.getRequestHeaders().getFirst("Authorization")));
			if (gated) {
				error(x, 403, "GatedRepo");
				return;
			}
			if (requiredToken != null && !("Bearer " + requiredToken).equals(x.getRequestHeaders().getFirst("Authorization"))) {
				error(x, 401, "RepoNotFound"); // the hub's answer to an unknown or private repository
				return;
			}
			String api = "/api/models/" + REPO + "/";
			if (path.startsWith("/api/models/") && !path.startsWith(api)) {
				error(x, 401, "RepoNotFound");
				return;
			}
			if (path.startsWith(api + "revision/")) {
				if (!revisionKnown(path.substring((api + "revision/").length()))) {
					error(x, 404, "RevisionNotFound");
					return;
				}
				JsonObject o = new JsonObject();
				o.addProperty("id", REPO);
				o.addProperty("sha", COMMIT);
				JsonArray siblings = new JsonArray();
				files.keySet().forEach(f -> {
					JsonObject s = new JsonObject();
					s.addProperty("rfilename", f);
					siblings.add(s);
				});
				o.add("siblings", siblings);
				send(x, 200, o.toString().getBytes(StandardCharsets.UTF_8), Map.of());
			}
			else if (path.startsWith(api + "tree/")) {
				tree(x, path.substring((api + "tree/").length()));
			}
			else if (path.startsWith("/" + REPO + "/resolve/")) {
				String rest = path.substring(("/" + REPO + "/resolve/").length());
				int slash = rest.indexOf('/');
				String file = java.net.URLDecoder.decode(rest.substring(slash + 1), StandardCharsets.UTF_8);
				if (!revisionKnown(rest.substring(0, slash))) error(x, 404, "RevisionNotFound");
				else if (!files.containsKey(file)) error(x, 404, "EntryNotFound");
				else if (lfs(file)) {
					x.getResponseHeaders().add("X-Linked-Etag", "\"" + sha256(file) + "\"");
					x.getResponseHeaders().add("X-Linked-Size", Long.toString(files.get(file).length));
					x.getResponseHeaders().add("X-Repo-Commit", COMMIT);
					x.getResponseHeaders().add("Location", "http://127.0.0.1:" + cdnPort() + "/blobs/" + sha256(file)
						+ "?name=" + java.net.URLEncoder.encode(file, StandardCharsets.UTF_8));
					x.sendResponseHeaders(302, -1);
				}
				else {
					x.getResponseHeaders().add("ETag", "\"" + gitOid(files.get(file)) + "\"");
					x.getResponseHeaders().add("X-Repo-Commit", COMMIT);
					ranged(x, files.get(file), file, false);
				}
			}
			else error(x, 404, "EntryNotFound");
		}
	}

	private boolean revisionKnown(String rev) {
		return rev.equals("main") || rev.equals(COMMIT);
	}

	private void tree(HttpExchange x, String rest) throws IOException {
		String query = x.getRequestURI().getRawQuery() == null ? "" : x.getRequestURI().getRawQuery();
		int start = query.contains("cursor=") ? Integer.parseInt(query.replaceAll(".*cursor=(\\d+).*", "$1")) : 0;
		List<String> paths = new ArrayList<>(files.keySet());
		JsonArray page = new JsonArray();
		for (int i = start; i < Math.min(paths.size(), start + pageSize); i++) {
			String p = paths.get(i);
			JsonObject o = new JsonObject();
			o.addProperty("type", "file");
			o.addProperty("path", p);
			o.addProperty("size", files.get(p).length);
			o.addProperty("oid", gitOid(files.get(p)));
			if (lfs(p)) {
				JsonObject l = new JsonObject();
				l.addProperty("oid", sha256(p));
				l.addProperty("size", files.get(p).length);
				l.addProperty("pointerSize", 134);
				o.add("lfs", l);
			}
			page.add(o);
		}
		Map<String, String> headers = new LinkedHashMap<>();
		if (start + pageSize < paths.size())
			headers.put("Link", "<" + endpoint() + "/api/models/" + REPO + "/tree/" + rest + "?recursive=true&cursor="
				+ (start + pageSize) + ">; rel=\"next\"");
		send(x, 200, page.toString().getBytes(StandardCharsets.UTF_8), headers);
	}

	private void cdn(HttpExchange x) throws IOException {
		try (x) {
			seen.add(new Seen("cdn", x.getRequestURI().getRawPath(), x.getRequestHeaders().getFirst("Range"),
				x.getRequestHeaders().getFirst("Authorization")));
			String query = x.getRequestURI().getQuery();
			String file = query.substring("name=".length());
			byte[] content = files.get(file).clone();
			if (corrupt.contains(file)) content[content.length / 2] ^= 0x5a;
			x.getResponseHeaders().add("ETag", "\"cdn-etag-not-the-hash\"");
			ranged(x, content, file, true);
		}
	}

	/** Serves content honouring "Range: bytes=N-"; on the CDN, may cut the first transfer or go slowly. */
	private void ranged(HttpExchange x, byte[] content, String file, boolean cdnRules) throws IOException {
		String range = x.getRequestHeaders().getFirst("Range");
		int from = 0;
		if (range != null && range.matches("bytes=\\d+-")) from = Integer.parseInt(range.replaceAll("\\D", ""));
		if (from >= content.length && content.length > 0) {
			x.sendResponseHeaders(416, -1);
			return;
		}
		int length = content.length - from;
		x.getResponseHeaders().add("Accept-Ranges", "bytes");
		if (from > 0) x.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (content.length - 1) + "/"
			+ content.length);
		x.sendResponseHeaders(from > 0 ? 206 : 200, length == 0 ? -1 : length);
		OutputStream out = x.getResponseBody();
		long cutAt = cdnRules && cutAfter >= 0 && content.length > cutAfter && cut.add(file) ? cutAfter : -1;
		for (int i = from; i < content.length; i += 4096) {
			int n = Math.min(4096, content.length - i);
			if (cutAt >= 0 && i + n > cutAt) {
				out.write(content, i, (int) (cutAt - i));
				out.flush();
				// Abort the connection mid-body: the client sees the transfer break off.
				throw new IOException("cut by the test");
			}
			out.write(content, i, n);
			if (cdnRules && slowMillis > 0) {
				out.flush();
				try {
					Thread.sleep(slowMillis);
				}
				catch (InterruptedException e) {
					Thread.currentThread().interrupt();
					return;
				}
			}
		}
	}

	private static void error(HttpExchange x, int status, String code) throws IOException {
		x.getResponseHeaders().add("X-Error-Code", code);
		send(x, status, ("{\"error\":\"" + code + "\"}").getBytes(StandardCharsets.UTF_8), Map.of());
	}

	private static void send(HttpExchange x, int status, byte[] body, Map<String, String> headers) throws IOException {
		x.getResponseHeaders().add("Content-Type", "application/json");
		headers.forEach((k, v) -> x.getResponseHeaders().add(k, v));
		x.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
		x.getResponseBody().write(body);
	}

	@Override
	public void close() {
		hub.stop(0);
		cdn.stop(0);
		pool.shutdownNow();
	}

	/** Reads a whole file of the served repository (for comparisons). */
	public byte[] content(String path) {
		byte[] b = files.get(path);
		if (b == null) throw new UncheckedIOException(new IOException("no such file " + path));
		return b;
	}
}
