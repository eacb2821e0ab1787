package sc.fiji.sd.onnx;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The {@code onnxruntime-java*} folder that ONNX Runtime 1.29 creates in {@code java.io.tmpdir} to extract its native
 * libraries: it deletes the libraries but keeps the folder for the lifetime of the process (a provider such as CUDA may
 * be extracted into it later) and never removes it, so every run left an empty folder behind. This removes it when the
 * JVM exits. A process killed with SIGKILL still leaves it; nothing else does.
 */
final class NativeFolder {

	private static boolean registered;

	private NativeFolder() {}

	/** Registers, once, a shutdown hook that deletes ONNX Runtime's extraction folder. */
	static synchronized void removeAtExit() {
		if (registered) return;
		Path folder = extractionFolder();
		if (folder == null) return;
		registered = true;
		Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(folder), "onnxruntime-folder-cleanup"));
	}

	/** The folder ONNX Runtime extracted its libraries to (its private field), or null when it cannot be read. */
	static Path extractionFolder() {
		try {
			Field f = Class.forName("ai.onnxruntime.OnnxRuntime").getDeclaredField("tempDirectory");
			f.setAccessible(true);
			Object value = f.get(null);
			return value instanceof Path p && p.getFileName() != null
				&& p.getFileName().toString().startsWith("onnxruntime-java") ? p : null;
		}
		catch (ReflectiveOperationException | RuntimeException e) {
			return null; // another ONNX Runtime version: leave its folder alone
		}
	}

	static void deleteTree(Path folder) {
		if (!Files.isDirectory(folder)) return;
		try (Stream<Path> all = Files.walk(folder)) {
			all.sorted(Comparator.reverseOrder()).forEach(p -> {
				try {
					Files.deleteIfExists(p);
				}
				catch (IOException e) {
					// a library still mapped on a system that forbids deleting it: the JVM's own deleteOnExit stays
				}
			});
		}
		catch (IOException | RuntimeException e) {
			// best effort at exit
		}
	}
}
