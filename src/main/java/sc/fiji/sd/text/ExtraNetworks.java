package sc.fiji.sd.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import sc.fiji.sd.StableDiffusionException;

/**
 * AUTOMATIC1111's extra-network tags: {@code <lora:name:0.8>} in a prompt asks for a LoRA at a weight. The tags are
 * taken out of the prompt before it is tokenized (they are instructions, not words), as A1111 does for every
 * {@code <kind:arguments>} tag; the front ends read them to load the LoRAs.
 */
public final class ExtraNetworks {

	/** A1111's pattern: a word, a colon, anything up to the closing angle bracket. */
	private static final Pattern TAG = Pattern.compile("<(\\w+):([^>]+)>");

	/** One {@code <lora:name[:weight]>} tag. */
	public record LoraTag(String name, double weight) {}

	private ExtraNetworks() {}

	/** The prompt without its extra-network tags. */
	public static String strip(String prompt) {
		if (prompt == null || prompt.indexOf('<') < 0) return prompt;
		return TAG.matcher(prompt).replaceAll("");
	}

	/** The {@code <lora:…>} (and {@code <lyco:…>}) tags of a prompt, in order; weight 1 when not given. */
	public static List<LoraTag> loras(String prompt) {
		List<LoraTag> tags = new ArrayList<>();
		if (prompt == null) return tags;
		Matcher m = TAG.matcher(prompt);
		while (m.find()) {
			String kind = m.group(1).toLowerCase(Locale.ROOT);
			if (!kind.equals("lora") && !kind.equals("lyco")) continue;
			String[] args = m.group(2).split(":");
			double weight = 1;
			if (args.length > 1) {
				String w = args[1].trim();
				if (w.startsWith("unet=") || w.startsWith("te=")) w = w.substring(w.indexOf('=') + 1);
				try {
					weight = Double.parseDouble(w);
				}
				catch (NumberFormatException e) {
					throw new StableDiffusionException("In " + m.group() + ", '" + args[1] + "' is not a weight; "
						+ "write <lora:name:0.8>.");
				}
			}
			tags.add(new LoraTag(args[0].trim(), weight));
		}
		return tags;
	}
}
