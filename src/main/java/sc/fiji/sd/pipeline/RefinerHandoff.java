package sc.fiji.sd.pipeline;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.model.ModelInfo;
import sc.fiji.sd.scheduler.Scheduler;

/**
 * SDXL's base → refiner hand-off, as diffusers' {@code denoising_end} / {@code denoising_start} split the timesteps:
 * at the switch fraction {@code f} the cut-off timestep is {@code round(T − f·T)} ({@code T} = num_train_timesteps); the
 * base runs the timesteps at or above it, the refiner (its own scheduler, the same step count) those below it,
 * starting from the base's latents without adding noise.
 */
final class RefinerHandoff {

	private RefinerHandoff() {}

	/** The refiner a request runs with: null without a switch; an error when it asks for one and none is set. */
	static StableDiffusionPipeline refinerFor(GenerationRequest request, StableDiffusionPipeline refiner) {
		if (request.refinerSwitch() <= 0) return null;
		if (refiner == null) {
			throw new StableDiffusionException("The request hands off to a refiner at " + request.refinerSwitch()
				+ " but no refiner model is set: give one (--refiner DIR) or leave the refiner switch at 0.");
		}
		return refiner;
	}

	/** A refiner continues the base's latents: both must be latent-compatible SDXL models. */
	static void checkPair(ModelInfo base, ModelInfo refiner) {
		if (!base.isSdxl() || !refiner.isSdxl()) {
			throw new StableDiffusionException("A refiner continues an SDXL model's latents: " + (base.isSdxl()
				? refiner.name() : base.name()) + " is " + (base.isSdxl() ? refiner : base).family().label()
				+ ", not SDXL. Use an SDXL base with an SDXL refiner.");
		}
		if (refiner.unetInChannels() != 4) {
			throw new StableDiffusionException(refiner.name() + " is an inpainting model (" + refiner.unetInChannels()
				+ "-channel UNet); a refiner takes the latents alone. Use the SDXL refiner.");
		}
		if (Math.abs(base.scalingFactor() - refiner.scalingFactor()) > 1e-9) {
			throw new StableDiffusionException(base.name() + " and " + refiner.name() + " scale their latents "
				+ "differently (" + base.scalingFactor() + " and " + refiner.scalingFactor() + "): not a base and refiner pair.");
		}
	}

	/** The cut-off timestep of a switch fraction. */
	static int cutoff(Scheduler scheduler, double switchAt) {
		int t = scheduler.config().numTrainTimesteps();
		return (int) Math.round(t - switchAt * t);
	}

	/** How many leading timesteps the base runs: those at or above the cut-off (diffusers' denoising_end). */
	static int baseEnd(Scheduler scheduler, double switchAt) {
		double[] timesteps = scheduler.timesteps();
		int cutoff = cutoff(scheduler, switchAt), n = 0;
		while (n < timesteps.length && timesteps[n] >= cutoff) n++;
		return n;
	}

	/** The first timestep index the refiner runs: the first below the cut-off (diffusers' denoising_start). */
	static int refinerStart(Scheduler scheduler, double switchAt) {
		double[] timesteps = scheduler.timesteps();
		int cutoff = cutoff(scheduler, switchAt), below = 0;
		for (double t : timesteps) if (t < cutoff) below++;
		return timesteps.length - below;
	}
}
