package sc.fiji.sd.pipeline;

import java.util.random.RandomGenerator;

import sc.fiji.sd.scheduler.Scheduler;

/** Creates the sampler of one batch: by A1111 name, or the model's own when the name is null. */
@FunctionalInterface
public interface SchedulerFactory {

	/**
	 * @param name AUTOMATIC1111 sampler name ("Euler a", "DPM++ 2M Karras", …) or null for the model's scheduler config
	 * @param rng noise source of stochastic samplers (Euler a, LCM, DPM++ 2M SDE): per image of the batch, from its seed
	 */
	Scheduler create(String name, RandomGenerator rng);
}
