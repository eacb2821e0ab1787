package sc.fiji.sd.pipeline;

import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.scheduler.SchedulerConfig;
import sc.fiji.sd.scheduler.Schedulers;

/** The samplers of the numeric core, configured from the model's scheduler config (SD 1.5's PNDM when absent). */
final class DefaultSchedulers {

	private DefaultSchedulers() {}

	static SchedulerConfig config(StableDiffusionModel model) {
		if (model.schedulerConfig() != null) return SchedulerConfig.load(model.schedulerConfig());
		// diffusers' export always writes one; without it, SD 1.5's scheduler is the best guess
		return SchedulerConfig.fromJson("{\"_class_name\": \"PNDMScheduler\", \"beta_start\": 0.00085, \"beta_end\": 0.012, "
			+ "\"beta_schedule\": \"scaled_linear\", \"num_train_timesteps\": 1000, \"steps_offset\": 1, "
			+ "\"set_alpha_to_one\": false, \"skip_prk_steps\": true, \"clip_sample\": false, \"prediction_type\": \"epsilon\"}");
	}

	static SchedulerFactory forModel(StableDiffusionModel model) {
		SchedulerConfig config = config(model);
		return (name, rng) -> Schedulers.create(name, config, rng);
	}
}
