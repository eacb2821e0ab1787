package sc.fiji.sd.lora;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import sc.fiji.sd.StableDiffusionException;

/**
 * Which LoRAs to apply, each with its weight: a value, so that loaded models can be cached by (model, LoRAs,
 * weights). Files are named by absolute path; the same file twice has its weights added.
 */
public record LoraSpec(List<Entry> entries) {

	/** One LoRA file at one weight. */
	public record Entry(Path file, double weight) {
		public Entry {
			file = file.toAbsolutePath().normalize();
		}
	}

	public static final LoraSpec NONE = new LoraSpec(List.of());

	public LoraSpec {
		entries = List.copyOf(entries);
	}

	public boolean isEmpty() { return entries.isEmpty(); }

	/** This set and {@code more}. */
	public LoraSpec plus(List<Entry> more) {
		List<Entry> all = new ArrayList<>(entries);
		all.addAll(more);
		return new LoraSpec(all);
	}

	/**
	 * {@code FILE[:WEIGHT]} (the CLI's {@code --lora}); weight 1 when left out. A Windows drive letter's colon is
	 * kept with the file: only a last colon followed by a number is read as the weight.
	 */
	public static Entry parseEntry(String text) {
		int colon = text.lastIndexOf(':');
		if (colon > 0) {
			String tail = text.substring(colon + 1);
			try {
				double w = Double.parseDouble(tail);
				if (!Double.isFinite(w)) throw new NumberFormatException();
				return new Entry(Path.of(text.substring(0, colon)), w);
			}
			catch (NumberFormatException e) {
				if (!tail.contains("/") && !tail.contains("\\")) {
					throw new StableDiffusionException("LoRA '" + text + "': '" + tail + "' is not a weight; write "
						+ "FILE:WEIGHT, e.g. style.safetensors:0.8.");
				}
			}
		}
		return new Entry(Path.of(text), 1);
	}

	@Override
	public String toString() {
		return entries.stream().map(e -> Lora.nameOf(e.file()) + ":" + e.weight()).collect(Collectors.joining(", "));
	}
}
