package sc.fiji.sd.lora;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.text.ExtraNetworks;

/**
 * A folder of LoRA files, searched by A1111's name (the file name without {@code .safetensors}, in the folder or
 * below it), for the {@code <lora:name:weight>} tags of a prompt.
 */
public final class LoraFolder {

	private LoraFolder() {}

	/** The LoRAs the prompt's tags ask for, resolved in {@code folder} (which may be null when there are no tags). */
	public static List<LoraSpec.Entry> fromPrompt(String prompt, Path folder) {
		List<LoraSpec.Entry> entries = new ArrayList<>();
		for (ExtraNetworks.LoraTag tag : ExtraNetworks.loras(prompt))
			entries.add(new LoraSpec.Entry(find(folder, tag.name()), tag.weight()));
		return entries;
	}

	/** The file of LoRA {@code name} in {@code folder}. */
	public static Path find(Path folder, String name) {
		if (folder == null) {
			throw new StableDiffusionException("The prompt asks for <lora:" + name + "> but no LoRA folder is set; "
				+ "give one (--lora-dir DIR, or the LoRA folder in Settings).");
		}
		List<Path> all = list(folder);
		for (Path p : all) if (Lora.nameOf(p).equals(name)) return p;
		for (Path p : all) if (Lora.nameOf(p).equalsIgnoreCase(name)) return p;
		List<String> names = all.stream().map(Lora::nameOf).sorted().toList();
		throw new StableDiffusionException("No LoRA named '" + name + "' in " + folder + ". "
			+ (names.isEmpty() ? "The folder holds no .safetensors files."
				: "It holds: " + String.join(", ", names.subList(0, Math.min(20, names.size())))
					+ (names.size() > 20 ? " … (" + names.size() + " in all)" : "") + "."));
	}

	/** The {@code .safetensors} files in and below {@code folder}. */
	public static List<Path> list(Path folder) {
		if (!Files.isDirectory(folder)) {
			throw new StableDiffusionException("The LoRA folder " + folder + " does not exist.");
		}
		try (Stream<Path> files = Files.walk(folder, 4)) {
			return files.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".safetensors"))
				.filter(Files::isRegularFile).sorted().toList();
		}
		catch (IOException e) {
			throw new StableDiffusionException("Cannot list the LoRA folder " + folder + ": " + e.getMessage(), e);
		}
	}
}
