package sc.fiji.sd.pipeline;

import sc.fiji.sd.model.StableDiffusionModel;

/** The samplers of the numeric core, configured from the model's scheduler config. */
final class DefaultSchedulers {

	private DefaultSchedulers() {}

	static SchedulerFactory forModel(StableDiffusionModel model) {
		return (name, rng) -> {
			throw new UnsupportedOperationException("schedulers not merged yet");
		};
	}
}
