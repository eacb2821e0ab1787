package sc.fiji.sd.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import sc.fiji.sd.StableDiffusionException;

/**
 * Timesteps and sigmas for the configurations users run: SD 1.5's {@code scheduler_config.json} (PNDM class, leading
 * spacing with steps_offset 1, no timestep_spacing key), SD-Turbo's trailing spacing, and diffusers' own timestep tests.
 * Expected lists come from diffusers' tests where they exist, otherwise from numpy evaluating diffusers' formulas.
 */
class TimestepScheduleTest {

	/** SD 1.5 (runwayml/stable-diffusion-v1-5) scheduler/scheduler_config.json. */
	static final String SD15 = "{\"_class_name\": \"PNDMScheduler\", \"_diffusers_version\": \"0.6.0\","
		+ " \"beta_end\": 0.012, \"beta_schedule\": \"scaled_linear\", \"beta_start\": 0.00085,"
		+ " \"num_train_timesteps\": 1000, \"set_alpha_to_one\": false, \"skip_prk_steps\": true,"
		+ " \"steps_offset\": 1, \"trained_betas\": null, \"clip_sample\": false}";

	static SchedulerConfig sd15() {
		return SchedulerConfig.fromJson(SD15);
	}

	private static double[] descending(int from, int step, int count) {
		return IntStream.range(0, count).mapToDouble(i -> from - (double) i * step).toArray();
	}

	@Test
	void ddimOnSd15ConfigIsLeadingWithOffset() {
		DDIMScheduler ddim = new DDIMScheduler(sd15());
		ddim.setTimesteps(50);
		assertArrayEquals(descending(981, 20, 50), ddim.timesteps()); // 981, 961, ..., 1
		assertEquals("leading", ddim.config().timestepSpacing());
	}

	@Test // diffusers test_scheduler_ddim.py test_steps_offset
	void ddimStepsOffset() {
		DDIMScheduler ddim = new DDIMScheduler(SchedulerConfig.defaults(SchedulerConfig.DDIM).with("steps_offset", 1));
		ddim.setTimesteps(5);
		assertArrayEquals(new double[] { 801, 601, 401, 201, 1 }, ddim.timesteps());
	}

	@Test
	void plmsOnSd15ConfigRepeatsTheSecondTimestep() {
		PNDMScheduler plms = new PNDMScheduler(sd15());
		plms.setTimesteps(10);
		assertArrayEquals(new double[] { 901, 801, 801, 701, 601, 501, 401, 301, 201, 101, 1 }, plms.timesteps());
		assertEquals("PLMS", plms.displayName());
	}

	@Test // diffusers test_scheduler_pndm.py test_steps_offset: Runge-Kutta warm-up, then PLMS
	void pndmWithPrkWarmUp() {
		PNDMScheduler pndm = new PNDMScheduler(SchedulerConfig.defaults(SchedulerConfig.PNDM).with("steps_offset", 1));
		pndm.setTimesteps(10);
		assertArrayEquals(new double[] { 901, 851, 851, 801, 801, 751, 751, 701, 701, 651, 651, 601, 601, 501, 401, 301,
			201, 101, 1 }, pndm.timesteps());
		assertEquals("PNDM", pndm.displayName());
	}

	@Test
	void eulerOnSd15ConfigIsLinspace() {
		EulerDiscreteScheduler euler = new EulerDiscreteScheduler(sd15());
		euler.setTimesteps(10);
		assertEquals("linspace", euler.config().timestepSpacing());
		assertArrayEquals(new double[] { 999, 888, 777, 666, 555, 444, 333, 222, 111, 0 }, euler.timesteps());
		double[] sigmas = euler.sigmas();
		assertEquals(11, sigmas.length);
		assertEquals(0, sigmas[10]);
		// linspace spacing starts at the largest training sigma, so the initial noise has that deviation
		assertEquals(14.6146, euler.initNoiseSigma(), 1e-4);
		assertEquals(sigmas[0], euler.initNoiseSigma());
	}

	@Test
	void eulerLinspaceTimestepsAreFractionalFloat32() {
		EulerDiscreteScheduler euler = new EulerDiscreteScheduler(sd15());
		euler.setTimesteps(20);
		double[] t = euler.timesteps();
		assertEquals(999, t[0]);
		assertEquals((float) (999 - 999.0 / 19), t[1]); // 946.42..., rounded to float32 as diffusers stores it
		assertEquals(0, t[19]);
	}

	@Test
	void eulerLeadingSpacingUsesTheLargerInitialSigma() {
		EulerDiscreteScheduler euler = new EulerDiscreteScheduler(sd15().with("timestep_spacing", "leading"));
		euler.setTimesteps(50);
		assertEquals(981, euler.timesteps()[0]);
		double s = euler.sigmas()[0];
		assertEquals(Math.sqrt(s * s + 1), euler.initNoiseSigma(), 1e-12);
	}

	@Test // SD-Turbo: trailing spacing, 1-4 steps
	void eulerTrailing() {
		EulerDiscreteScheduler euler = new EulerDiscreteScheduler(sd15().with("timestep_spacing", "trailing"));
		euler.setTimesteps(1);
		assertArrayEquals(new double[] { 999 }, euler.timesteps());
		euler.setTimesteps(4);
		assertArrayEquals(new double[] { 999, 749, 499, 249 }, euler.timesteps());
		euler.setTimesteps(3); // round(arange(1000, 0, -333.33)) - 1, half to even
		assertArrayEquals(new double[] { 999, 666, 332 }, euler.timesteps());
	}

	@Test // numpy: np.linspace(0, 999, 21).round()[::-1][:-1]
	void dpmOnSd15ConfigIsLinspaceWithoutZero() {
		DPMSolverMultistepScheduler dpm = new DPMSolverMultistepScheduler(sd15());
		dpm.setTimesteps(20);
		assertArrayEquals(new double[] { 999, 949, 899, 849, 799, 749, 699, 649, 599, 549, 500, 450, 400, 350, 300, 250,
			200, 150, 100, 50 }, dpm.timesteps());
	}

	@Test // SD 1.5's sigma range is 0.0292 .. 14.6146 (A1111 and k-diffusion print these)
	void karrasSigmasSpanTheTrainingRange() {
		DPMSolverMultistepScheduler dpm = new DPMSolverMultistepScheduler(sd15().withKarrasSigmas(true));
		dpm.setTimesteps(20);
		double[] s = dpm.sigmas();
		assertEquals(21, s.length);
		assertEquals(14.6146, s[0], 1e-4);
		assertEquals(0.0292, s[19], 1e-4);
		assertEquals(0, s[20]); // final_sigmas_type zero (the class default)
		for (int i = 1; i < 20; i++)
			assertTrue(s[i] < s[i - 1], "Karras sigmas decrease");
		// rho = 7: equal steps in sigma^(1/7)
		double d0 = Math.pow(s[0], 1 / 7.0) - Math.pow(s[1], 1 / 7.0);
		double d18 = Math.pow(s[18], 1 / 7.0) - Math.pow(s[19], 1 / 7.0);
		assertEquals(d0, d18, 1e-6);
		double[] t = dpm.timesteps();
		assertEquals(999, t[0]);
		assertEquals(0, t[19]);
		for (double ti : t)
			assertEquals(Math.rint(ti), ti, "DPM rounds Karras timesteps to integers");
		assertEquals("DPM++ 2M Karras", dpm.displayName());
	}

	/**
	 * diffusers' {@code _convert_to_karras} reads {@code sigma_min} and {@code sigma_max} from the config when it has
	 * them (Euler, Heun, DPM-Solver, UniPC since diffusers 0.24; a scheduler_config.json's keys are kept for
	 * compatible classes, so they reach every class), LMS's never does. The timesteps follow the sigmas.
	 */
	@Test
	void karrasSigmasHonourAConfiguredRangeWhereDiffusersDoes() {
		SchedulerConfig range = sd15().withKarrasSigmas(true).with("sigma_min", 0.1).with("sigma_max", 10.0);
		EulerDiscreteScheduler euler = new EulerDiscreteScheduler(range);
		HeunDiscreteScheduler heun = new HeunDiscreteScheduler(range);
		DPMSolverMultistepScheduler dpm = new DPMSolverMultistepScheduler(range);
		DPMSolverMultistepScheduler sde = new DPMSolverMultistepScheduler(range.with("algorithm_type",
			"sde-dpmsolver++"), new TorchCpuGenerator(0));
		UniPCMultistepScheduler unipc = new UniPCMultistepScheduler(range);
		LMSDiscreteScheduler lms = new LMSDiscreteScheduler(range);
		for (Scheduler s : List.of(euler, heun, dpm, sde, unipc, lms))
			s.setTimesteps(8);
		// Heun repeats every sigma but the first: s0, s1, s1, ..., s7, s7, 0
		double[][] firstAndLast = { { euler.sigmas()[0], euler.sigmas()[7] }, { heun.sigmas()[0], heun.sigmas()[14] },
			{ dpm.sigmas()[0], dpm.sigmas()[7] }, { sde.sigmas()[0], sde.sigmas()[7] },
			{ unipc.sigmas()[0], unipc.sigmas()[7] } };
		for (double[] ends : firstAndLast) {
			assertEquals(10.0, ends[0], 1e-5);
			assertEquals(0.1, ends[1], 1e-6);
		}
		// sigma 10 lies below SD 1.5's largest (14.6): the run starts before the last training timestep
		assertTrue(dpm.timesteps()[0] < 999 && dpm.timesteps()[0] > 900, "DPM's first timestep " + dpm.timesteps()[0]);
		assertEquals(dpm.timesteps()[0], unipc.timesteps()[0]);
		LMSDiscreteScheduler plain = new LMSDiscreteScheduler(sd15().withKarrasSigmas(true));
		plain.setTimesteps(8);
		assertArrayEquals(plain.sigmas(), lms.sigmas(), "LMS keeps the schedule's own range");
	}

	@Test // a lone key can still reverse the range: the other end is the schedule's, known only at setTimesteps
	void aLoneKarrasSigmaBeyondTheSchedulesOtherEndIsRefusedByName() {
		SchedulerConfig karras = sd15().withKarrasSigmas(true);
		// SD 1.5's sigmas run from 0.0292 to 14.6146; Euler's Karras range is that of its 8 inference timesteps
		List<Scheduler> aboveTheTop = List.of(new EulerDiscreteScheduler(karras.with("sigma_min", 20.0)),
			new DPMSolverMultistepScheduler(karras.with("sigma_min", 20.0)));
		for (Scheduler s : aboveTheTop) {
			String m = assertThrows(StableDiffusionException.class, () -> s.setTimesteps(8)).getMessage();
			assertTrue(m.contains("\"sigma_min\"") && m.contains("20.0") && m.contains("14.6")
				&& m.contains("\"sigma_max\""), m);
		}
		Scheduler belowTheBottom = new UniPCMultistepScheduler(karras.with("sigma_max", 0.01));
		String m = assertThrows(StableDiffusionException.class, () -> belowTheBottom.setTimesteps(8)).getMessage();
		assertTrue(m.contains("\"sigma_max\"") && m.contains("0.01") && m.contains("0.029"), m);
		// inside the schedule's range a lone key is honoured, the other end is the schedule's
		EulerDiscreteScheduler inside = new EulerDiscreteScheduler(karras.with("sigma_min", 1.0));
		inside.setTimesteps(8);
		assertEquals(1.0, inside.sigmas()[7], 1e-6);
		EulerDiscreteScheduler whole = new EulerDiscreteScheduler(karras);
		whole.setTimesteps(8);
		assertEquals(whole.sigmas()[0], inside.sigmas()[0], 1e-6);
	}

	@Test // numpy: lcm_origin_timesteps[::-1][floor(linspace(0, 50, n, endpoint=False))]
	void lcmPicksFromTheDistillationTimesteps() {
		LCMScheduler lcm = new LCMScheduler(SchedulerConfig.defaults(SchedulerConfig.LCM), new TorchCpuGenerator(0));
		lcm.setTimesteps(4);
		assertArrayEquals(new double[] { 999, 759, 499, 259 }, lcm.timesteps());
		lcm.setTimesteps(8);
		assertArrayEquals(new double[] { 999, 879, 759, 639, 499, 379, 259, 139 }, lcm.timesteps());
	}

	@Test
	void heunVisitsEveryTimestepButTheFirstTwice() {
		HeunDiscreteScheduler heun = new HeunDiscreteScheduler(sd15());
		heun.setTimesteps(4);
		double[] t = heun.timesteps();
		assertArrayEquals(new double[] { 999, 666, 666, 333, 333, 0, 0 }, t);
		double[] s = heun.sigmas();
		assertEquals(8, s.length);
		assertEquals(s[1], s[2]);
		assertEquals(0, s[7]);
	}

	@Test // numpy: np.linspace(0, 999, 11).round()[::-1][:-1], like DPM-Solver
	void unipcOnSd15ConfigIsLinspaceWithoutZero() {
		UniPCMultistepScheduler unipc = new UniPCMultistepScheduler(sd15());
		unipc.setTimesteps(10);
		assertArrayEquals(new double[] { 999, 899, 799, 699, 599, 500, 400, 300, 200, 100 }, unipc.timesteps());
		assertEquals("bh2", unipc.config().uniPcSolverType());
	}

	@Test
	void heunHasTwoModelCallsPerStep() {
		assertEquals(2, new HeunDiscreteScheduler(sd15()).order());
		assertEquals(1, new EulerDiscreteScheduler(sd15()).order());
	}

	@Test
	void timestepsAreACopy() {
		DDIMScheduler ddim = new DDIMScheduler(sd15());
		ddim.setTimesteps(10);
		double[] t = ddim.timesteps();
		Arrays.fill(t, -1);
		assertEquals(901, ddim.timesteps()[0]);
	}
}
