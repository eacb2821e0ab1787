package sc.fiji.sd.hub;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where the hub is and where its downloads go, from the environment variables huggingface_hub documents (so Python
 * tools and this plugin share one cache): {@code HF_ENDPOINT}, {@code HF_HOME}, {@code HF_HUB_CACHE}, {@code HF_TOKEN},
 * {@code HF_HUB_OFFLINE}. Built from a map so tests never read the real environment.
 *
 * @param endpoint the hub's base URL, without a trailing slash
 * @param cache the hub cache folder ({@code models--org--name/...} live here)
 * @param token an access token for private or gated repositories, or null
 * @param offline true when {@code HF_HUB_OFFLINE} is set: only what is cached is used
 */
public record HubEnvironment(String endpoint, Path cache, String token, boolean offline) {

	public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

	public HubEnvironment {
		endpoint = endpoint.replaceAll("/+$", "");
		token = token == null || token.isBlank() ? null : token.trim();
	}

	/** The process environment (the one place that reads it). */
	public static HubEnvironment fromSystem() {
		return from(System.getenv(), Path.of(System.getProperty("user.home")));
	}

	public static HubEnvironment from(Map<String, String> env, Path userHome) {
		String endpoint = nonBlank(env.get("HF_ENDPOINT"), DEFAULT_ENDPOINT);
		Path home = env.get("HF_HOME") != null && !env.get("HF_HOME").isBlank() ? Path.of(env.get("HF_HOME"))
			: userHome.resolve(".cache").resolve("huggingface");
		String cacheVar = nonBlank(env.get("HF_HUB_CACHE"), nonBlank(env.get("HUGGINGFACE_HUB_CACHE"), null));
		Path cache = cacheVar != null ? Path.of(cacheVar) : home.resolve("hub");
		String token = nonBlank(env.get("HF_TOKEN"), env.get("HUGGING_FACE_HUB_TOKEN"));
		return new HubEnvironment(endpoint, cache, token, truthy(env.get("HF_HUB_OFFLINE")));
	}

	private static String nonBlank(String value, String fallback) {
		return value == null || value.isBlank() ? fallback : value.trim();
	}

	// huggingface_hub reads 1, ON, YES and TRUE (any case) as true.
	private static boolean truthy(String value) {
		return value != null && java.util.Set.of("1", "on", "yes", "true").contains(value.trim().toLowerCase());
	}

	public HubEnvironment withCache(Path otherCache) {
		return new HubEnvironment(endpoint, otherCache, token, offline);
	}
}
