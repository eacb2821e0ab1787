package sc.fiji.sd.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import picocli.CommandLine.Option;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.lora.EmbeddingSpec;
import sc.fiji.sd.lora.LoraFolder;
import sc.fiji.sd.lora.LoraSpec;

/**
 * Mixin for the generating sub-commands: {@code --lora FILE[:WEIGHT]} (repeatable), {@code --lora-dir DIR} and
 * {@code --embeddings DIR} (textual inversion).
 */
public class LoraOptions {

	@Option(names = "--lora", paramLabel = "FILE[:WEIGHT]", description = "Apply a LoRA (.safetensors, kohya or "
		+ "diffusers/PEFT layout) at a weight (default 1); repeat for several.")
	List<String> loras = new ArrayList<>();

	@Option(names = "--lora-dir", paramLabel = "DIR", description = "Folder of LoRA files for <lora:name:weight> "
		+ "tags in the prompt.")
	Path loraDir;

	@Option(names = "--embeddings", paramLabel = "DIR", description = "Folder of textual-inversion embeddings "
		+ "(.safetensors): each file's name is a word that prompts can use, as in AUTOMATIC1111.")
	Path embeddingsDir;

	/** The embeddings of {@code --embeddings}; a missing folder is a usage error (exit code 2). */
	EmbeddingSpec embeddings() {
		try {
			return EmbeddingSpec.ofFolder(embeddingsDir);
		}
		catch (StableDiffusionException e) {
			throw new Main.UsageException(e.getMessage());
		}
	}

	/** The LoRAs of the options and of the prompt's tags; a missing file or name is a usage error (exit code 2). */
	LoraSpec spec(String prompt) {
		try {
			List<LoraSpec.Entry> entries = new ArrayList<>();
			for (String text : loras) {
				LoraSpec.Entry e = LoraSpec.parseEntry(text);
				if (!Files.isRegularFile(e.file())) {
					throw new StableDiffusionException("--lora " + text + ": the file " + e.file() + " does not exist.");
				}
				entries.add(e);
			}
			entries.addAll(LoraFolder.fromPrompt(prompt, loraDir));
			return new LoraSpec(entries);
		}
		catch (StableDiffusionException e) {
			throw new Main.UsageException(e.getMessage());
		}
	}
}
