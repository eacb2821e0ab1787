package sc.fiji.sd.model;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import sc.fiji.sd.StableDiffusionException;

/**
 * The small model shipped with the plugin ({@code models/tiny-sd-shapes}), so everything works offline out of the box.
 * <p>
 * Looked up, in order: the system property {@code sd.embeddedModel}; the classes folder of a development build; inside
 * the jar, where Maven packs it as resources — then it is extracted once to a per-user cache folder (re-extracted
 * when a file's size differs) and that folder is returned. Nothing else (see {@link #path()}).
 */
public final class EmbeddedModel {

	public static final String NAME = "tiny-sd-shapes";
	static final String RESOURCE_PREFIX = "models/" + NAME + "/";
	/**
	 * The ControlNet trained for it, shipped beside it ({@code models/tiny-sd-shapes-controlnet}, OnnxStack's layout;
	 * the model folder holds {@code controlnet/model.onnx}). Unpacked beside the model too, so the rule "the ControlNet
	 * of a model is the folder beside it" ({@link ControlNetModel#besideModel}) finds it wherever the model is.
	 */
	public static final String CONTROLNET_NAME = NAME + ControlNetModel.BESIDE_SUFFIX;
	static final String CONTROLNET_PREFIX = "models/" + CONTROLNET_NAME + "/";

	private EmbeddedModel() {}

	/**
	 * The folder of the embedded model: the one the user configured with the system property {@code sd.embeddedModel},
	 * else the model inside our own code source (the classes folder of a development build, or the jar, unpacked to the
	 * user's cache folder). Never a {@code models/} folder of the working directory or of a folder above the jar:
	 * anyone can create {@code /tmp/models}, and a planted model would be used silently.
	 */
	public static synchronized Path path() {
		String override = System.getProperty("sd.embeddedModel");
		if (override != null && !override.isBlank()) return Paths.get(override);
		Path found = fromCodeSource(codeSource(), cacheFolder());
		if (found != null) return found;
		throw new StableDiffusionException("The embedded model (models/" + NAME + ") was not found inside the plugin's "
			+ "jar. Reinstall the plugin, or give a model folder.");
	}

	/**
	 * The embedded model's ControlNet: the folder beside {@link #path()}, or null when this build ships none (or the
	 * folder configured with {@code sd.embeddedModel} has none beside it).
	 */
	public static Path controlNet() {
		Path folder = ControlNetModel.besideModel(path());
		return folder != null && Files.isDirectory(folder) ? folder : null;
	}

	/** The model inside {@code codeSource} (a classes folder or a jar, then unpacked under {@code cacheRoot}); null if none. */
	static Path fromCodeSource(Path codeSource, Path cacheRoot) {
		if (codeSource == null) return null;
		Path inClasses = codeSource.resolve("models").resolve(NAME);
		if (Files.isDirectory(codeSource)) return isModel(inClasses) ? inClasses : null;
		if (Files.isRegularFile(codeSource)) return extractFromJar(codeSource, cacheRoot);
		return null;
	}

	static boolean isModel(Path dir) {
		return Files.isRegularFile(dir.resolve("unet").resolve("model.onnx"));
	}

	private static Path codeSource() {
		try {
			URL url = EmbeddedModel.class.getProtectionDomain().getCodeSource().getLocation();
			return Paths.get(url.toURI()).toAbsolutePath().normalize();
		}
		catch (URISyntaxException | RuntimeException e) {
			return null;
		}
	}

	static Path cacheFolder() {
		String base = System.getenv("XDG_CACHE_HOME");
		Path root = base != null && !base.isBlank() ? Paths.get(base)
			: Paths.get(System.getProperty("user.home"), ".cache");
		return root.resolve("stable-diffusion-fiji").resolve("models");
	}

	/**
	 * Copies the {@code models/tiny-sd-shapes/} entries of {@code jar} to {@code cacheRoot/tiny-sd-shapes-<hash>}, and
	 * its ControlNet's ({@code models/tiny-sd-shapes-controlnet/}) beside it to {@code tiny-sd-shapes-<hash>-controlnet},
	 * skipping files already there with the right size; null when the jar has no model entries. The hash of the entries'
	 * names, sizes and CRCs keys the folder, so a plugin update with a retrained model or ControlNet (same file sizes)
	 * never reuses the old files.
	 */
	static Path extractFromJar(Path jar, Path cacheRoot) {
		Path target = null;
		boolean found = false;
		try (JarFile jf = new JarFile(jar.toFile())) {
			long hash = 1125899906842597L;
			for (Enumeration<JarEntry> en = jf.entries(); en.hasMoreElements();) {
				JarEntry e = en.nextElement();
				if (folderOf(e) == null) continue;
				hash = 31 * (31 * (31 * hash + e.getName().hashCode()) + e.getSize()) + e.getCrc();
			}
			target = cacheRoot.resolve(NAME + "-" + Long.toHexString(hash & 0xffffffffL));
			Path controlNet = ControlNetModel.besideModel(target);
			Enumeration<JarEntry> entries = jf.entries();
			while (entries.hasMoreElements()) {
				JarEntry e = entries.nextElement();
				String prefix = folderOf(e);
				if (prefix == null) continue;
				boolean model = prefix.equals(RESOURCE_PREFIX);
				found |= model;
				Path folder = model ? target : controlNet;
				Path out = folder.resolve(e.getName().substring(prefix.length())).normalize();
				if (!out.startsWith(folder)) continue; // no path tricks
				if (Files.isRegularFile(out) && e.getSize() >= 0 && Files.size(out) == e.getSize()) continue;
				Files.createDirectories(out.getParent());
				Path tmp = Files.createTempFile(out.getParent(), out.getFileName().toString(), ".part");
				try (InputStream in = jf.getInputStream(e)) {
					Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
					Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
				}
				finally {
					Files.deleteIfExists(tmp);
				}
			}
		}
		catch (IOException e) {
			throw new StableDiffusionException("Cannot extract the embedded model from " + jar + " to " + target + ": "
				+ e.getMessage() + ". Check that the folder is writable, or give a model folder.", e);
		}
		return found ? target : null;
	}

	/** The prefix of the shipped folder a jar entry belongs to (the model's or its ControlNet's), or null. */
	private static String folderOf(JarEntry e) {
		if (e.isDirectory()) return null;
		if (e.getName().startsWith(RESOURCE_PREFIX)) return RESOURCE_PREFIX;
		return e.getName().startsWith(CONTROLNET_PREFIX) ? CONTROLNET_PREFIX : null;
	}
}
