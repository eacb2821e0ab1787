package sc.fiji.sd.lora;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import sc.fiji.sd.StableDiffusionException;

/**
 * The textual-inversion embedding files a text encoder gets: a value, so that loaded models are cached by (model,
 * LoRAs, embeddings). Each file is named with its size and modification time, so a file replaced in the folder
 * loads anew. As in A1111, every embedding of the folder is loaded and its trigger word works in any prompt.
 */
public record EmbeddingSpec(List<Entry> entries) {

	/** One file as it was when listed. */
	public record Entry(Path file, long size, long modified) {
		public Entry {
			file = file.toAbsolutePath().normalize();
		}
	}

	public static final EmbeddingSpec NONE = new EmbeddingSpec(List.of());

	/** Suffixes of the files listed: safetensors, and the pickle kinds, refused by name when their word is used. */
	private static final String[] SUFFIXES = { ".safetensors", ".pt", ".pth", ".bin", ".ckpt" };

	public EmbeddingSpec {
		entries = List.copyOf(entries);
	}

	public boolean isEmpty() { return entries.isEmpty(); }

	/** The embedding files in and below {@code folder}; {@link #NONE} for a null folder. */
	public static EmbeddingSpec ofFolder(Path folder) {
		if (folder == null) return NONE;
		if (!Files.isDirectory(folder)) {
			throw new StableDiffusionException("The embeddings folder " + folder + " does not exist; give a folder "
				+ "of textual-inversion .safetensors files.");
		}
		try (Stream<Path> files = Files.walk(folder, 4)) {
			return new EmbeddingSpec(files.filter(Files::isRegularFile).filter(EmbeddingSpec::listed).sorted()
				.map(EmbeddingSpec::entry).toList());
		}
		catch (IOException e) {
			throw new StableDiffusionException("Cannot list the embeddings folder " + folder + ": " + e.getMessage(), e);
		}
	}

	private static boolean listed(Path p) {
		String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
		for (String s : SUFFIXES) if (n.endsWith(s)) return true;
		return false;
	}

	private static Entry entry(Path p) {
		try {
			return new Entry(p, Files.size(p), Files.getLastModifiedTime(p).toMillis());
		}
		catch (IOException e) {
			throw new StableDiffusionException("Cannot read " + p + ": " + e.getMessage(), e);
		}
	}

	@Override
	public String toString() {
		return entries.stream().map(e -> Embedding.nameOf(e.file())).toList().toString();
	}
}
