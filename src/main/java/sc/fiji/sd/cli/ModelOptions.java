package sc.fiji.sd.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import picocli.CommandLine.Option;
import sc.fiji.sd.hub.ModelLocator;
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.RuntimeOptions;

/** Mixin for every sub-command that loads a model: {@code --model DIR} and {@code --device auto|cpu|cuda}. */
public class ModelOptions {

	@Option(names = "--model", paramLabel = "DIR|ORG/NAME", description = "Model folder, or a downloaded Hugging Face "
		+ "repository id (see 'models'; default: the embedded model).")
	String model;

	@Option(names = "--device", defaultValue = "auto", description = "auto, cpu or cuda (default: ${DEFAULT-VALUE}).")
	String device;

	/** The model folder asked for, or the embedded model. */
	Path folder() {
		if (model == null) return EmbeddedModel.path();
		return resolve(model);
	}

	/** A model folder, or a downloaded Hugging Face repository id, as a folder. */
	static Path resolve(String model) {
		return ModelLocator.resolve(model, HubOptions.environment()).orElse(Path.of(model));
	}

	/** The device, checked: an unknown name is a usage error (exit code 2). */
	String device() {
		if (!List.of("auto", "cpu", "cuda").contains(device.toLowerCase(Locale.ROOT))) {
			throw new Main.UsageException("Unknown --device '" + device + "': use auto, cpu or cuda.");
		}
		return device;
	}

	/** The runtime options of this run: the checked device, and the {@code sd.*} measuring properties. */
	RuntimeOptions runtimeOptions() {
		return RuntimeOptions.fromSystemProperties().withDevice(Device.parse(device()));
	}
}
