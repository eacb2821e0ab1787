/**
 * Diffusion samplers ported from diffusers' schedulers, one class per diffusers class with diffusers' names:
 * {@link sc.fiji.sd.scheduler.DDIMScheduler}, {@link sc.fiji.sd.scheduler.PNDMScheduler},
 * {@link sc.fiji.sd.scheduler.EulerDiscreteScheduler}, {@link sc.fiji.sd.scheduler.EulerAncestralDiscreteScheduler},
 * {@link sc.fiji.sd.scheduler.LMSDiscreteScheduler}, {@link sc.fiji.sd.scheduler.HeunDiscreteScheduler},
 * {@link sc.fiji.sd.scheduler.DPMSolverMultistepScheduler}, {@link sc.fiji.sd.scheduler.UniPCMultistepScheduler},
 * {@link sc.fiji.sd.scheduler.LCMScheduler}.
 * <p>
 * {@link sc.fiji.sd.scheduler.SchedulerConfig} reads {@code scheduler_config.json} with diffusers' per-class defaults;
 * {@link sc.fiji.sd.scheduler.NoiseSchedule} holds the arithmetic they share (betas, alpha_bar, sigmas, timestep
 * spacing, Karras sigmas, x0/epsilon from a model output) at torch's precision; {@link sc.fiji.sd.scheduler.Schedulers}
 * is the registry: it creates them by AUTOMATIC1111 sampler name or diffusers class, and every list of samplers
 * (drop-downs, CLI help, messages, provenance names) derives from it. Each class keeps its {@code CLASS_NAME} and its
 * diffusers constructor {@code DEFAULTS}. Three package-private bases hold what diffusers copies between classes
 * of one family: {@code AlphaBarScheduler} (DDIM, PNDM, LCM), {@code VpMultistepScheduler} (DPM-Solver, UniPC) and
 * {@code DiscreteSigmaScheduler} (Euler, Euler a, LMS, Heun), all on {@code AbstractScheduler}'s accessors; each
 * class's own file keeps diffusers' {@code setTimesteps} and {@code step}. {@link sc.fiji.sd.scheduler.TorchCpuGenerator} reproduces {@code torch.manual_seed} normals, so
 * stochastic samplers can match diffusers run for run. The tests reproduce diffusers' own full-loop test values.
 */
package sc.fiji.sd.scheduler;
