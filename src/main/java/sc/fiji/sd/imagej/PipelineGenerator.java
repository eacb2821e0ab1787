package sc.fiji.sd.imagej;

import sc.fiji.sd.lora.EmbeddingSet;
import sc.fiji.sd.lora.LoraSet;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.pipeline.GeneratedImage;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.GenerationResult;
import sc.fiji.sd.pipeline.ProgressListener;
import sc.fiji.sd.pipeline.StableDiffusionPipeline;

/** The real {@link ImageGenerator}: a loaded model (owned by the model cache) and the core pipeline. */
final class PipelineGenerator implements ImageGenerator {

	private final StableDiffusionModel model;
	private final StableDiffusionModel refiner; // SDXL's refiner for a hand-off, or null

	PipelineGenerator(StableDiffusionModel model) {
		this(model, null);
	}

	PipelineGenerator(StableDiffusionModel model, StableDiffusionModel refiner) {
		this.model = model;
		this.refiner = refiner;
	}

	/** A pipeline on the model, with the SDXL refiner and the tiny decoder chosen in Settings (if any). */
	private StableDiffusionPipeline pipeline() {
		StableDiffusionPipeline pipeline = new StableDiffusionPipeline(model);
		if (refiner != null) pipeline.setRefiner(new StableDiffusionPipeline(refiner));
		DecoderSettings.load().apply(model, pipeline);
		return pipeline;
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
	public java.nio.file.Path modelFolder() {
		return model.folder();
	}

	@Override
	public GenerationResult generate(GenerationRequest request, sc.fiji.sd.pipeline.HiresFix.Options hires,
		ProgressListener listener)
	{
		String hashes = check(request);
		return withHashes(sc.fiji.sd.pipeline.HiresFix.generate(pipeline(), request, hires, listener), hashes);
	}

	@Override
	public GenerationResult generate(GenerationRequest request, ProgressListener listener) {
		String hashes = check(request);
		return withHashes(pipeline().generate(request, listener), hashes);
	}

	/**
	 * Refuses LoRA tags the model was not loaded with (no silent drop) and embeddings that cannot be used, before the
	 * run; returns what A1111 adds to the parameters: {@code Lora hashes} and {@code TI hashes} (null for none).
	 */
	private String check(GenerationRequest request) {
		LoraSet.checkTagsApplied(request.prompt(), model.initializerOverrides());
		LoraSet loras = model.initializerOverrides().part(LoraSet.class);
		EmbeddingSet embeddings = model.initializerOverrides().part(EmbeddingSet.class);
		String ti = embeddings == null ? null
			: embeddings.hashesFor(model.tokenizer(), request.prompt(), request.negativePrompt());
		String parameters = EmbeddingSet.withHashes(LoraSet.withHashes("", loras == null ? null : loras.hashes()), ti);
		return parameters.isEmpty() ? null : parameters;
	}

	/** The result with {@code hashes} (", Lora hashes: …") appended to each image's parameters. */
	private static GenerationResult withHashes(GenerationResult r, String hashes) {
		if (hashes == null) return r;
		return new GenerationResult(r.images().stream().map(g -> new GeneratedImage(g.pixels(), g.seed(),
			g.parameters() + hashes)).toList(), r.interrupted(), r.seconds());
	}
}
