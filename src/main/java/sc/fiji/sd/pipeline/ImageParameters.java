package sc.fiji.sd.pipeline;

import sc.fiji.sd.pipeline.GenerationRequest.Mode;
import sc.fiji.sd.provenance.Provenance;

/** The AUTOMATIC1111 "parameters" text of each image of a run (provenance): the request's, with the image's seed. */
final class ImageParameters {

	private final GenerationRequest request;
	private final Plan plan;
	private final String sampler;
	private final String model;
	private final String refiner;

	/**
	 * @param sampler the sampler's display name
	 * @param model the model's name
	 */
	ImageParameters(GenerationRequest request, Plan plan, String sampler, String model) {
		this(request, plan, sampler, model, null);
	}

	/** @param refiner the SDXL refiner's name when the request hands off to one, else null */
	ImageParameters(GenerationRequest request, Plan plan, String sampler, String model, String refiner) {
		this.request = request;
		this.plan = plan;
		this.sampler = sampler;
		this.model = model;
		this.refiner = refiner;
	}

	/**
	 * The text of image {@code image} of the run: its seed and, when varying, its variation seed and strength (the
	 * negative prompt only when CFG ran; strength only from an image; tile size and overlap only with tiled diffusion; A1111's ControlNet lines).
	 */
	String forImage(int image) {
		return Provenance.parameters(request.prompt(), plan.cfg ? request.negativePrompt() : "", request.steps(),
			sampler, request.guidance(), plan.variation.seed(image), plan.width, plan.height, model,
			plan.mode == Mode.TEXT_TO_IMAGE ? null : request.strength(), plan.variation.parameters(image))
			+ (plan.tileW > 0 ? ", Tiled diffusion: " + request.tileSize() + ", Tile overlap: " + request.tileOverlap() : "")
			+ (refiner == null ? "" : ", Refiner: " + refiner + ", Refiner switch at: "
				+ Provenance.number(request.refinerSwitch())) // as AUTOMATIC1111 writes them for SDXL
			+ GenerationSettings.parameters(request)
			+ ControlNetParameters.text(request.controls());
	}
}
