package sc.fiji.sd.cli;

import picocli.CommandLine.Option;
import sc.fiji.sd.model.ModelProvider;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.RuntimeOptions;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.StableDiffusionPipeline;

/** Mixin: SDXL's refiner hand-off, {@code --refiner DIR --refiner-switch 0.8} (AUTOMATIC1111's "Refiner switch at"). */
class RefinerOptions {

	static final double DEFAULT_SWITCH = 0.8;

	@Option(names = "--refiner", paramLabel = "DIR|ORG/NAME", description = "SDXL refiner model: the model denoises "
		+ "until --refiner-switch, the refiner the rest (default: none).")
	String refiner;

	@Option(names = "--refiner-switch", paramLabel = "FRACTION", description = "With --refiner: the fraction of the "
		+ "steps run before the refiner takes over, more than 0 and less than 1 (default: " + DEFAULT_SWITCH + ").")
	Double refinerSwitch;

	/** The request with the hand-off asked for; a switch without a refiner is a usage error. */
	GenerationRequest.Builder apply(GenerationRequest.Builder builder) {
		if (refiner == null) {
			if (refinerSwitch != null) {
				throw new Main.UsageException("--refiner-switch needs --refiner DIR (the SDXL refiner model).");
			}
			return builder;
		}
		return builder.refinerSwitch(refinerSwitch == null ? DEFAULT_SWITCH : refinerSwitch);
	}

	/** Loads the refiner beside the model (or frees one a previous run held) and sets it on the pipeline. */
	void attach(ModelProvider models, RuntimeOptions options, StableDiffusionPipeline pipeline) {
		if (refiner == null) {
			models.releaseRefiner();
			return;
		}
		StableDiffusionModel model = models.refiner(new ModelProvider.Key(ModelOptions.resolve(refiner), options));
		pipeline.setRefiner(new StableDiffusionPipeline(model));
	}
}
