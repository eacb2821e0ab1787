package sc.fiji.sd.imagej;

import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.GenerationResult;
import sc.fiji.sd.pipeline.ProgressListener;
import sc.fiji.sd.pipeline.StableDiffusionPipeline;

/** The real {@link ImageGenerator}: a loaded model (owned by the model cache) and the core pipeline. */
final class PipelineGenerator implements ImageGenerator {

	private final StableDiffusionModel model;

	PipelineGenerator(StableDiffusionModel model) {
		this.model = model;
	}

	@Override
	public int nativeSize() {
		return model.info().nativeSize();
	}

	@Override
	public int sizeStep() {
		return model.info().sizeStep();
	}

	@Override
	public String modelName() {
		return model.info().name();
	}

	@Override
	public GenerationResult generate(GenerationRequest request, sc.fiji.sd.pipeline.HiresFix.Options hires,
		ProgressListener listener)
	{
		sc.fiji.sd.lora.LoraSet.checkTagsApplied(request.prompt(), model.initializerOverrides()); // no silent drop
		return sc.fiji.sd.pipeline.HiresFix.generate(pipeline(), request, hires, listener);
	}

	@Override
	public GenerationResult generate(GenerationRequest request, ProgressListener listener) {
		sc.fiji.sd.lora.LoraSet.checkTagsApplied(request.prompt(), model.initializerOverrides()); // no silent drop
		return pipeline().generate(request, listener);
	}

	/** A pipeline on the model, with the tiny decoder chosen in Settings (if any). */
	private StableDiffusionPipeline pipeline() {
		StableDiffusionPipeline pipeline = new StableDiffusionPipeline(model);
		DecoderSettings.load().apply(model, pipeline);
		return pipeline;
	}
}
