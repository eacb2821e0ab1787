package sc.fiji.sd.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.GenerationSetting;
import sc.fiji.sd.pipeline.GenerationSettings;

/**
 * The options of {@link GenerationSettings}, added to a generation command's spec from that table (after its declared
 * options), and read back into the request: a new setting needs no code here.
 */
final class SettingOptions {

	private SettingOptions() {}

	/** Adds an option for each setting the command's mode offers. */
	static void addTo(CommandSpec spec, GenerationRequest.Mode mode) {
		for (GenerationSetting<?> s : GenerationSettings.forMode(mode)) {
			String def = s.defaultText();
			spec.addOption(OptionSpec.builder(s.option()).type(String.class).paramLabel(s.paramLabel())
				.description(s.help() + (def.isEmpty() ? "." : " (default: " + def + ")."))
				.build());
		}
	}

	/** The request with the settings given on the command line; a bad value is a usage error that names the option. */
	static GenerationRequest.Builder apply(CommandSpec spec, GenerationRequest.Builder builder) {
		for (GenerationSetting<?> s : GenerationSettings.ALL) {
			OptionSpec option = spec.findOption(s.option());
			String value = option == null ? null : option.getValue();
			if (value == null) continue;
			try {
				builder.settings(java.util.Map.of(s, value));
			}
			catch (StableDiffusionException e) {
				throw new Main.UsageException(s.option() + " " + value + ": " + e.getMessage());
			}
		}
		return builder;
	}
}
