package sc.fiji.sd.scheduler;

import static sc.fiji.sd.scheduler.DiffusersFixtures.assertSumAndMean;
import static sc.fiji.sd.scheduler.DiffusersFixtures.noisedLoop;
import static sc.fiji.sd.scheduler.DiffusersFixtures.plainLoop;
import static sc.fiji.sd.scheduler.DiffusersFixtures.sigmaLoop;

import org.junit.jupiter.api.Test;

/**
 * diffusers' own full-loop results: each test runs the loop of diffusers' test (see {@link DiffusersFixtures}) with its
 * configuration and asserts the sum and mean of |x| with diffusers' tolerances. Source of every constant:
 * huggingface/diffusers {@code tests/schedulers/test_scheduler_<name>.py} (Apache-2.0), the method named in the
 * comment. Values with a noise generator use {@code torch.manual_seed(0)}, which {@link TorchCpuGenerator} reproduces.
 */
class DiffusersConformanceTest {

	private static final double NONE = Double.NaN;

	// ---- DDIM (test_scheduler_ddim.py): 1000 steps, linear 1e-4..0.02, clip_sample true ----

	private static SchedulerConfig ddim(String extra) {
		return SchedulerConfig.fromJson("{\"_class_name\": \"DDIMScheduler\", \"num_train_timesteps\": 1000,"
			+ " \"beta_start\": 0.0001, \"beta_end\": 0.02, \"beta_schedule\": \"linear\", \"clip_sample\": true" + extra
			+ "}");
	}

	@Test // test_full_loop_no_noise
	void ddimEpsilon() {
		assertSumAndMean(plainLoop(new DDIMScheduler(ddim("")), 10), 172.0067, 1e-2, 0.223967, 1e-3);
	}

	@Test // test_full_loop_with_v_prediction
	void ddimVPrediction() {
		assertSumAndMean(plainLoop(new DDIMScheduler(ddim(", \"prediction_type\": \"v_prediction\"")), 10), 52.5302,
			1e-2, 0.0684, 1e-3);
	}

	@Test // test_full_loop_with_set_alpha_to_one (beta_start 0.01 so that the first alpha is 0.99)
	void ddimSetAlphaToOne() {
		assertSumAndMean(plainLoop(new DDIMScheduler(ddim(", \"set_alpha_to_one\": true, \"beta_start\": 0.01")), 10),
			149.8295, 1e-2, 0.1951, 1e-3);
	}

	@Test // test_full_loop_with_no_set_alpha_to_one
	void ddimNoSetAlphaToOne() {
		assertSumAndMean(plainLoop(new DDIMScheduler(ddim(", \"set_alpha_to_one\": false, \"beta_start\": 0.01")), 10),
			149.0784, 1e-2, 0.1941, 1e-3);
	}

	@Test // test_full_loop_with_noise: t_start 8
	void ddimWithNoise() {
		assertSumAndMean(noisedLoop(new DDIMScheduler(ddim("")), 10, 8, false), 354.5418, 1e-2, 0.4616, 1e-3);
	}

	// ---- PNDM (test_scheduler_pndm.py): 1000 steps, linear; skip_prk_steps false (PRK warm-up, then PLMS) ----

	private static SchedulerConfig pndm(String extra) {
		return SchedulerConfig.fromJson("{\"_class_name\": \"PNDMScheduler\", \"num_train_timesteps\": 1000,"
			+ " \"beta_start\": 0.0001, \"beta_end\": 0.02, \"beta_schedule\": \"linear\"" + extra + "}");
	}

	@Test // test_full_loop_no_noise
	void pndmEpsilon() {
		assertSumAndMean(plainLoop(new PNDMScheduler(pndm("")), 10), 198.1318, 1e-2, 0.2580, 1e-3);
	}

	@Test // test_full_loop_with_v_prediction
	void pndmVPrediction() {
		assertSumAndMean(plainLoop(new PNDMScheduler(pndm(", \"prediction_type\": \"v_prediction\"")), 10), 67.3986,
			1e-2, 0.0878, 1e-3);
	}

	@Test // test_full_loop_with_set_alpha_to_one
	void pndmSetAlphaToOne() {
		assertSumAndMean(plainLoop(new PNDMScheduler(pndm(", \"set_alpha_to_one\": true, \"beta_start\": 0.01")), 10),
			230.0399, 1e-2, 0.2995, 1e-3);
	}

	@Test // test_full_loop_with_no_set_alpha_to_one
	void pndmNoSetAlphaToOne() {
		assertSumAndMean(plainLoop(new PNDMScheduler(pndm(", \"set_alpha_to_one\": false, \"beta_start\": 0.01")), 10),
			186.9482, 1e-2, 0.2434, 1e-3);
	}

	// ---- Euler, Euler ancestral, LMS, Heun: 1100 training steps, linear 1e-4..0.02, linspace ----

	private static SchedulerConfig k1100(String className, String extra) {
		return SchedulerConfig.fromJson("{\"_class_name\": \"" + className + "\", \"num_train_timesteps\": 1100,"
			+ " \"beta_start\": 0.0001, \"beta_end\": 0.02, \"beta_schedule\": \"linear\"" + extra + "}");
	}

	@Test // test_scheduler_euler.py test_full_loop_no_noise
	void eulerEpsilon() {
		assertSumAndMean(sigmaLoop(new EulerDiscreteScheduler(k1100("EulerDiscreteScheduler", "")), 10), 10.0807, 1e-2,
			0.0131, 1e-3);
	}

	@Test // test_scheduler_euler.py test_full_loop_with_v_prediction
	void eulerVPrediction() {
		assertSumAndMean(sigmaLoop(new EulerDiscreteScheduler(k1100("EulerDiscreteScheduler",
			", \"prediction_type\": \"v_prediction\"")), 10), 0.0002, 1e-2, 2.2676e-06, 1e-3);
	}

	@Test // test_scheduler_euler.py test_full_loop_device_karras_sigmas
	void eulerKarras() {
		assertSumAndMean(sigmaLoop(new EulerDiscreteScheduler(k1100("EulerDiscreteScheduler",
			", \"use_karras_sigmas\": true")), 10), 124.52299499511719, 1e-2, 0.16213932633399963, 1e-3);
	}

	@Test // test_scheduler_euler.py test_full_loop_with_noise: t_start 8
	void eulerWithNoise() {
		assertSumAndMean(noisedLoop(new EulerDiscreteScheduler(k1100("EulerDiscreteScheduler", "")), 10, 8, true),
			57062.9297, 1e-2, 74.3007, 1e-3);
	}

	@Test // test_scheduler_euler_ancestral.py test_full_loop_no_noise, generator torch.manual_seed(0)
	void eulerAncestralEpsilon() {
		assertSumAndMean(sigmaLoop(new EulerAncestralDiscreteScheduler(k1100("EulerAncestralDiscreteScheduler", ""),
			new TorchCpuGenerator(0)), 10), 152.3192, 1e-2, 0.1983, 1e-3);
	}

	@Test // test_scheduler_euler_ancestral.py test_full_loop_with_v_prediction
	void eulerAncestralVPrediction() {
		assertSumAndMean(sigmaLoop(new EulerAncestralDiscreteScheduler(k1100("EulerAncestralDiscreteScheduler",
			", \"prediction_type\": \"v_prediction\""), new TorchCpuGenerator(0)), 10), 108.4439, 1e-2, 0.1412, 1e-3);
	}

	@Test // test_scheduler_euler_ancestral.py test_full_loop_with_noise: t_start 8
	void eulerAncestralWithNoise() {
		assertSumAndMean(noisedLoop(new EulerAncestralDiscreteScheduler(k1100("EulerAncestralDiscreteScheduler", ""),
			new TorchCpuGenerator(0)), 10, 8, true), 56163.0508, 1e-2, 73.1290, 1e-3);
	}

	@Test // test_scheduler_lms.py test_full_loop_no_noise
	void lmsEpsilon() {
		assertSumAndMean(sigmaLoop(new LMSDiscreteScheduler(k1100("LMSDiscreteScheduler", "")), 10), 1006.388, 1e-2,
			1.31, 1e-3);
	}

	@Test // test_scheduler_lms.py test_full_loop_with_v_prediction
	void lmsVPrediction() {
		assertSumAndMean(sigmaLoop(new LMSDiscreteScheduler(k1100("LMSDiscreteScheduler",
			", \"prediction_type\": \"v_prediction\"")), 10), 0.0017, 1e-2, 2.2676e-06, 1e-3);
	}

	@Test // test_scheduler_lms.py test_full_loop_device_karras_sigmas (tolerance 2e-2)
	void lmsKarras() {
		assertSumAndMean(sigmaLoop(new LMSDiscreteScheduler(k1100("LMSDiscreteScheduler",
			", \"use_karras_sigmas\": true")), 10), 3812.9927, 2e-2, 4.9648, 1e-3);
	}

	@Test // test_scheduler_lms.py test_full_loop_with_noise: t_start 8
	void lmsWithNoise() {
		assertSumAndMean(noisedLoop(new LMSDiscreteScheduler(k1100("LMSDiscreteScheduler", "")), 10, 8, true),
			27663.6895, 1e-2, 36.0204, 1e-3);
	}

	@Test // test_scheduler_heun.py test_full_loop_no_noise (cpu values)
	void heunEpsilon() {
		assertSumAndMean(sigmaLoop(new HeunDiscreteScheduler(k1100("HeunDiscreteScheduler", "")), 10), 0.1233, 1e-2,
			0.0002, 1e-3);
	}

	@Test // test_scheduler_heun.py test_full_loop_with_v_prediction (cpu values)
	void heunVPrediction() {
		assertSumAndMean(sigmaLoop(new HeunDiscreteScheduler(k1100("HeunDiscreteScheduler",
			", \"prediction_type\": \"v_prediction\"")), 10), 4.6934e-07, 1e-2, 6.1112e-10, 1e-3);
	}

	@Test // test_scheduler_heun.py test_full_loop_device_karras_sigmas
	void heunKarras() {
		assertSumAndMean(sigmaLoop(new HeunDiscreteScheduler(k1100("HeunDiscreteScheduler",
			", \"use_karras_sigmas\": true")), 10), 0.00015, 1e-2, 1.9869554535034695e-07, 1e-2);
	}

	@Test // test_scheduler_heun.py test_full_loop_with_noise: t_start 8, order 2 → index 16 of the doubled timesteps
	void heunWithNoise() {
		assertSumAndMean(noisedLoop(new HeunDiscreteScheduler(k1100("HeunDiscreteScheduler", "")), 10, 16, true),
			75074.8906, 1e-2, 97.7538, 1e-3);
	}

	// ---- DPM-Solver multistep (test_scheduler_dpm_multi.py) ----

	private static SchedulerConfig dpm(String extra) {
		return SchedulerConfig.fromJson("{\"_class_name\": \"DPMSolverMultistepScheduler\","
			+ " \"num_train_timesteps\": 1000, \"beta_start\": 0.0001, \"beta_end\": 0.02, \"beta_schedule\": \"linear\","
			+ " \"solver_order\": 2, \"prediction_type\": \"epsilon\", \"thresholding\": false,"
			+ " \"algorithm_type\": \"dpmsolver++\", \"solver_type\": \"midpoint\", \"lower_order_final\": false,"
			+ " \"euler_at_final\": false, \"final_sigmas_type\": \"sigma_min\"" + extra + "}");
	}

	@Test // test_full_loop_no_noise (mean only)
	void dpmEpsilon() {
		assertSumAndMean(plainLoop(new DPMSolverMultistepScheduler(dpm("")), 10), NONE, 0, 0.3301, 1e-3);
	}

	@Test // test_full_loop_with_v_prediction (mean only)
	void dpmVPrediction() {
		assertSumAndMean(plainLoop(new DPMSolverMultistepScheduler(dpm(", \"prediction_type\": \"v_prediction\"")), 10),
			NONE, 0, 0.2251, 1e-3);
	}

	@Test // test_full_loop_with_karras_and_v_prediction (mean only)
	void dpmKarrasVPrediction() {
		assertSumAndMean(plainLoop(new DPMSolverMultistepScheduler(dpm(
			", \"prediction_type\": \"v_prediction\", \"use_karras_sigmas\": true")), 10), NONE, 0, 0.2096, 1e-3);
	}

	@Test // test_full_loop_with_noise: t_start 5
	void dpmWithNoise() {
		assertSumAndMean(noisedLoop(new DPMSolverMultistepScheduler(dpm("")), 10, 5, false), 318.4111, 1e-2, 0.4146,
			1e-3);
	}

	// ---- LCM (test_scheduler_lcm.py): 1000 steps, scaled_linear 0.00085..0.012, generator torch.manual_seed(0) ----

	private static SchedulerConfig lcm() {
		return SchedulerConfig.fromJson("{\"_class_name\": \"LCMScheduler\", \"num_train_timesteps\": 1000,"
			+ " \"beta_start\": 0.00085, \"beta_end\": 0.0120, \"beta_schedule\": \"scaled_linear\","
			+ " \"prediction_type\": \"epsilon\"}");
	}

	@Test // test_full_loop_onestep (tolerance 1e-3 on the sum)
	void lcmOneStep() {
		assertSumAndMean(plainLoop(new LCMScheduler(lcm(), new TorchCpuGenerator(0)), 1), 18.7097, 1e-3, 0.0244, 1e-3);
	}

	@Test // test_full_loop_multistep (tolerance 1e-3 on the sum)
	void lcmMultistep() {
		assertSumAndMean(plainLoop(new LCMScheduler(lcm(), new TorchCpuGenerator(0)), 10), 197.7616, 1e-3, 0.2575,
			1e-3);
	}

	// ---- UniPC (test_scheduler_unipc.py, UniPCMultistepSchedulerTest): 1000 steps, linear, order 2, bh2 ----

	private static SchedulerConfig unipc(String extra) {
		return SchedulerConfig.fromJson("{\"_class_name\": \"UniPCMultistepScheduler\","
			+ " \"num_train_timesteps\": 1000, \"beta_start\": 0.0001, \"beta_end\": 0.02, \"beta_schedule\": \"linear\","
			+ " \"solver_order\": 2, \"solver_type\": \"bh2\", \"final_sigmas_type\": \"sigma_min\"" + extra + "}");
	}

	@Test // test_full_loop_no_noise (mean only)
	void unipcEpsilon() {
		assertSumAndMean(plainLoop(new UniPCMultistepScheduler(unipc("")), 10), NONE, 0, 0.2464, 1e-3);
	}

	@Test // test_full_loop_with_karras (mean only)
	void unipcKarras() {
		assertSumAndMean(plainLoop(new UniPCMultistepScheduler(unipc(", \"use_karras_sigmas\": true")), 10), NONE, 0,
			0.2925, 1e-3);
	}

	@Test // test_full_loop_with_v_prediction (mean only)
	void unipcVPrediction() {
		assertSumAndMean(plainLoop(new UniPCMultistepScheduler(unipc(", \"prediction_type\": \"v_prediction\"")), 10),
			NONE, 0, 0.1014, 1e-3);
	}

	@Test // test_full_loop_with_karras_and_v_prediction (mean only)
	void unipcKarrasVPrediction() {
		assertSumAndMean(plainLoop(new UniPCMultistepScheduler(unipc(
			", \"prediction_type\": \"v_prediction\", \"use_karras_sigmas\": true")), 10), NONE, 0, 0.1966, 1e-3);
	}

	@Test // test_full_loop_with_noise: t_start 8
	void unipcWithNoise() {
		assertSumAndMean(noisedLoop(new UniPCMultistepScheduler(unipc("")), 10, 8, false), 315.5757, 1e-2, 0.4109,
			1e-3);
	}
}
