package sc.fiji.sd.onnx;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoggingLevel;
import sc.fiji.sd.StableDiffusionException;

/**
 * The one process-wide ONNX Runtime environment, and the place where a clash with another plugin's ONNX Runtime is
 * explained to the user.
 * <p>
 * Only one native ONNX Runtime can live in a JVM: the first {@code libonnxruntime} loaded wins and any other version
 * fails to link, even from another class loader. In Fiji, deepImageJ and SAMJ (through JDLL) load ONNX Runtime 1.3–1.13;
 * if one of them ran first, this plugin cannot start its own. Every access goes through {@link #get()}, which turns
 * the linkage errors into a {@link StableDiffusionException} that says what happened and what to do.
 */
public final class OnnxEnvironment {

	/** The ONNX Runtime version this plugin was built against (from the Maven build), e.g. "1.29.0". */
	public static final String BUILT_AGAINST = builtAgainst();

	private static OrtEnvironment environment;
	private static StableDiffusionException failure;

	private OnnxEnvironment() {}

	/** The shared environment; creates it on first use. */
	public static synchronized OrtEnvironment get() {
		if (environment != null) return environment;
		if (failure != null) throw failure;
		try {
			OrtEnvironment env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "stable-diffusion");
			checkVersion(env.getVersion(), BUILT_AGAINST);
			environment = env;
			return env;
		}
		catch (StableDiffusionException e) {
			failure = e;
			throw e;
		}
		catch (LinkageError | IllegalStateException e) {
			// UnsatisfiedLinkError (native library of another version already loaded), NoClassDefFoundError or
			// ExceptionInInitializerError (OnnxRuntime's static initialiser failed), NoSuchMethodError (an older
			// onnxruntime jar earlier on the class path).
			failure = conflict(e);
			throw failure;
		}
	}

	/** The native ONNX Runtime version, or a sentence saying why it could not be loaded. */
	public static String version() {
		try {
			return get().getVersion();
		}
		catch (StableDiffusionException e) {
			return "not loaded: " + e.getMessage();
		}
	}

	/** Fails when the loaded native ONNX Runtime is older (major.minor) than the one this plugin was built against. */
	static void checkVersion(String loaded, String builtAgainst) {
		if (loaded == null || builtAgainst == null || builtAgainst.isEmpty()) return;
		int[] l = majorMinor(loaded), b = majorMinor(builtAgainst);
		if (l == null || b == null) return;
		boolean older = l[0] < b[0] || (l[0] == b[0] && l[1] < b[1]);
		if (older) throw new StableDiffusionException(conflictMessage("ONNX Runtime " + loaded
			+ " is loaded in this Fiji, but Stable Diffusion needs " + builtAgainst + " or newer."));
	}

	/** Wraps a linkage failure in the user-facing explanation. */
	static StableDiffusionException conflict(Throwable cause) {
		String detail = cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + firstLine(cause.getMessage()));
		return new StableDiffusionException(conflictMessage("ONNX Runtime could not be started (" + detail + ")."), cause);
	}

	private static String conflictMessage(String what) {
		return what + " Most likely another plugin (deepImageJ, SAMJ or another JDLL-based tool) already loaded a "
			+ "different ONNX Runtime version into this Java process; only one can be loaded at a time. What to do: "
			+ "restart Fiji and run Stable Diffusion before that plugin, or remove the other onnxruntime jar "
			+ "(jars/onnxruntime-*.jar of an older version) from Fiji.";
	}

	static int[] majorMinor(String version) {
		String[] parts = version.trim().split("[.\\-]");
		if (parts.length < 2) return null;
		try {
			return new int[] { Integer.parseInt(parts[0]), Integer.parseInt(parts[1]) };
		}
		catch (NumberFormatException e) {
			return null;
		}
	}

	static String firstLine(String s) {
		int nl = s.indexOf('\n');
		return (nl < 0 ? s : s.substring(0, nl)).trim();
	}

	private static String builtAgainst() {
		try (InputStream in = OnnxEnvironment.class.getResourceAsStream("onnxruntime.properties")) {
			if (in == null) return "";
			Properties p = new Properties();
			p.load(in);
			String v = p.getProperty("version", "");
			return v.startsWith("${") ? "" : v;
		}
		catch (IOException e) {
			return "";
		}
	}
}
