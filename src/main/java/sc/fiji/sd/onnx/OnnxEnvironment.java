package sc.fiji.sd.onnx;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
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
	private static OrtLoggingLevel logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
	private static StableDiffusionException failure;

	private OnnxEnvironment() {}

	/** The shared environment; creates it on first use. */
	public static synchronized OrtEnvironment get() {
		if (environment != null) return environment;
		if (failure != null) throw failure;
		try {
			OrtEnvironment env = createOnLargeStack();
			checkVersion(env.getVersion(), BUILT_AGAINST);
			// Users of a scientific plugin do not expect usage events naming their model files to be queued.
			env.setTelemetry(false);
			NativeFolder.removeAtExit();
			environment = env;
			return env;
		}
		catch (StableDiffusionException e) {
			failure = e;
			throw e;
		}
		catch (OrtException e) {
			failure = new StableDiffusionException("ONNX Runtime could not be configured: " + e.getMessage(), e);
			throw failure;
		}
		catch (LinkageError | IllegalStateException e) {
			// UnsatisfiedLinkError (native library of another version already loaded), NoClassDefFoundError or
			// ExceptionInInitializerError (OnnxRuntime's static initialiser failed), NoSuchMethodError (an older
			// onnxruntime jar earlier on the class path).
			failure = conflict(e);
			throw failure;
		}
	}

	/**
	 * Makes ONNX Runtime's own log lines reach stderr (level WARNING) instead of only fatal ones. Takes effect only
	 * before the environment is created, which is once per process: the command line calls it for {@code --verbose}.
	 */
	public static synchronized void logWarnings(boolean verbose) {
		if (environment == null) logLevel = verbose ? OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING : OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
	}

	/**
	 * Creates the environment on a thread with a stack sized to the process's command line. ONNX Runtime parses
	 * {@code /proc/self/cmdline} recursively when it creates its environment, about 150 bytes of stack per character,
	 * so a long {@code --prompt} overflowed the 1 MB main-thread stack and the JVM died with SIGSEGV (exit 139).
	 */
	private static OrtEnvironment createOnLargeStack() {
		OrtEnvironment[] created = new OrtEnvironment[1];
		Throwable[] thrown = new Throwable[1];
		Thread t = new Thread(null, () -> {
			try {
				created[0] = OrtEnvironment.getEnvironment(logLevel, "stable-diffusion");
			}
			catch (Throwable e) {
				thrown[0] = e;
			}
		}, "onnxruntime-environment", stackBytes(commandLineLength()));
		t.start();
		boolean interrupted = false;
		while (true) {
			try {
				t.join();
				break;
			}
			catch (InterruptedException e) {
				interrupted = true; // the native call cannot be abandoned half-way
			}
		}
		if (interrupted) Thread.currentThread().interrupt();
		if (thrown[0] instanceof RuntimeException r) throw r;
		if (thrown[0] instanceof Error err) throw err;
		if (thrown[0] != null) throw new IllegalStateException(thrown[0]);
		return created[0];
	}

	/** Stack for parsing a command line of {@code length} bytes: 256 bytes a byte plus 16 MB (reserved, touched only as used). */
	static long stackBytes(long length) {
		return (16L << 20) + 256L * Math.max(0, length);
	}

	/** Bytes of {@code /proc/self/cmdline}; 0 where there is none (not Linux). */
	static long commandLineLength() {
		try {
			return Files.readAllBytes(Path.of("/proc/self/cmdline")).length;
		}
		catch (IOException | RuntimeException e) {
			return 0;
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
