package sc.fiji.sd.provenance;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.Locale;

import sc.fiji.sd.StableDiffusionException;

/**
 * What may be replaced by an output file: only a regular file (or nothing). A device ({@code /dev/null},
 * {@code /dev/full}), a folder, a pipe or a socket is refused, so a run never replaces one with a PNG. A symbolic link
 * to a regular file is replaced by the new file (the file it pointed to stays as it was).
 */
public final class OutputTarget {

	private OutputTarget() {}

	/** Refuses a name that does not end in .png, and a target that exists and is not a regular file. */
	public static void check(Path target) {
		checkName(target);
		checkReplaceable(target);
	}

	/** Refuses a name that does not end in .png (PNG bytes under a .jpg name would mislead every viewer). */
	public static void checkName(Path target) {
		String name = target.getFileName() == null ? "" : target.getFileName().toString();
		if (!name.toLowerCase(Locale.ROOT).endsWith(".png")) {
			String base = name.contains(".") ? name.substring(0, name.lastIndexOf('.')) : name;
			throw new StableDiffusionException("The output " + target + " must be a .png file: the images are written as "
				+ "PNG with their parameters. Use " + (base.isEmpty() ? "output" : base) + ".png.");
		}
	}

	/** Refuses a target that exists and is not a regular file (a device, a folder, a pipe, a socket). */
	public static void checkReplaceable(Path target) {
		if (Files.exists(target) && !Files.isRegularFile(target)) {
			throw new StableDiffusionException("The output " + target + " exists and is not a regular file ("
				+ kind(target) + "): only a regular file is ever replaced. Give another file name.");
		}
	}

	/** Gives {@code tmp} the permissions of {@code existing} when that is a regular file, so replacing keeps them. */
	public static void keepPermissions(Path existing, Path tmp) throws IOException {
		if (!Files.isRegularFile(existing)) return;
		PosixFileAttributeView view = Files.getFileAttributeView(existing, PosixFileAttributeView.class);
		if (view == null) return; // not a POSIX file system
		PosixFileAttributes attributes = view.readAttributes();
		Files.setPosixFilePermissions(tmp, attributes.permissions());
	}

	/** Renames {@code tmp} over {@code target}: atomically where the file system can, else a plain replace. */
	public static void moveIntoPlace(Path tmp, Path target) throws IOException {
		try {
			Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
		}
		catch (AtomicMoveNotSupportedException e) {
			Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
		}
	}

	private static String kind(Path p) {
		if (Files.isDirectory(p)) return "a folder";
		if (Files.isSymbolicLink(p) && !Files.exists(p)) return "a broken link";
		try {
			Object special = Files.getAttribute(p, "unix:mode"); // of what a link points to
			int type = ((Integer) special) & 0170000;
			if (type == 0020000) return "a character device";
			if (type == 0060000) return "a block device";
			if (type == 0010000) return "a named pipe";
			if (type == 0140000) return "a socket";
		}
		catch (IOException | RuntimeException e) {
			// not a Unix file system
		}
		return "a special file";
	}
}
