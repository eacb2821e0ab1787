package sc.fiji.sd.hub;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Where downloaded bytes go: the file system, or in tests one that runs out of space. */
public interface Storage {

	/** Free bytes on the disk that holds {@code folder} (the folder may not exist yet: its nearest parent counts). */
	long usableBytes(Path folder) throws IOException;

	OutputStream open(Path file, boolean append) throws IOException;

	Storage FILES = new Storage() {
		@Override
		public long usableBytes(Path folder) throws IOException {
			Path p = folder.toAbsolutePath();
			while (p != null && !Files.exists(p)) p = p.getParent();
			return p == null ? Long.MAX_VALUE : Files.getFileStore(p).getUsableSpace();
		}

		@Override
		public OutputStream open(Path file, boolean append) throws IOException {
			return Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
				append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
		}
	};
}
