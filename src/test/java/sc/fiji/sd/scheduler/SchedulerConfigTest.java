package sc.fiji.sd.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.StableDiffusionException;

/** Reading scheduler_config.json: per-class defaults as in diffusers, copies, and messages that name the key. */
class SchedulerConfigTest {

	@Test
	void readsSd15Config(@TempDir Path dir) throws IOException {
		Path json = dir.resolve("scheduler_config.json");
		Files.writeString(json, TimestepScheduleTest.SD15);
		SchedulerConfig c = SchedulerConfig.load(json);
		assertEquals("PNDMScheduler", c.className());
		assertEquals(1000, c.numTrainTimesteps());
		assertEquals(0.00085, c.betaStart());
		assertEquals(0.012, c.betaEnd());
		assertEquals("scaled_linear", c.betaSchedule());
		assertEquals(1, c.stepsOffset());
		assertTrue(c.skipPrkSteps());
		assertFalse(c.setAlphaToOne());
		assertNull(c.trainedBetas()); // "trained_betas": null
		assertEquals("epsilon", c.predictionType());
	}

	@Test // the defaults of the class that USES the file fill the absent keys
	void absentKeysTakeTheUsingClassDefaults() {
		SchedulerConfig sd15 = TimestepScheduleTest.sd15();
		assertEquals("leading", sd15.forClass(SchedulerConfig.DDIM).timestepSpacing());
		assertEquals("leading", sd15.forClass(SchedulerConfig.PNDM).timestepSpacing());
		assertEquals("linspace", sd15.forClass(SchedulerConfig.EULER).timestepSpacing());
		assertEquals("linspace", sd15.forClass(SchedulerConfig.DPM_MULTISTEP).timestepSpacing());
		assertEquals("leading", sd15.forClass(SchedulerConfig.LCM).timestepSpacing());
		// explicit keys win: SD 1.5 sets set_alpha_to_one false, which DDIM would default to true
		assertFalse(sd15.forClass(SchedulerConfig.DDIM).setAlphaToOne());
		assertTrue(SchedulerConfig.defaults(SchedulerConfig.DDIM).setAlphaToOne());
		assertTrue(SchedulerConfig.defaults(SchedulerConfig.DDIM).clipSample());
		assertFalse(SchedulerConfig.defaults(SchedulerConfig.LCM).clipSample());
		assertEquals("scaled_linear", SchedulerConfig.defaults(SchedulerConfig.LCM).betaSchedule());
		assertEquals(50, SchedulerConfig.defaults(SchedulerConfig.LCM).originalInferenceSteps());
		assertEquals(10.0, SchedulerConfig.defaults(SchedulerConfig.LCM).timestepScaling());
		assertTrue(SchedulerConfig.defaults(SchedulerConfig.DPM_MULTISTEP).lowerOrderFinal());
		assertEquals(2, SchedulerConfig.defaults(SchedulerConfig.DPM_MULTISTEP).solverOrder());
		assertEquals("zero", SchedulerConfig.defaults(SchedulerConfig.DPM_MULTISTEP).finalSigmasType());
		assertEquals(0.00085, SchedulerConfig.defaults(SchedulerConfig.HEUN).betaStart());
		assertEquals(0.0001, SchedulerConfig.defaults(SchedulerConfig.EULER).betaStart());
		assertEquals(SchedulerConfig.EULER, sd15.forClass(SchedulerConfig.EULER).className());
	}

	@Test
	void schedulersReportTheConfigTheyRunWith() {
		Scheduler euler = new EulerDiscreteScheduler(TimestepScheduleTest.sd15());
		assertEquals(SchedulerConfig.EULER, euler.config().className());
		assertEquals(1, euler.config().stepsOffset());
		assertEquals("linspace", euler.config().timestepSpacing());
	}

	@Test
	void withReturnsAModifiedCopy() {
		SchedulerConfig base = TimestepScheduleTest.sd15();
		SchedulerConfig karras = base.withKarrasSigmas(true);
		assertTrue(karras.useKarrasSigmas());
		assertFalse(base.useKarrasSigmas());
		assertTrue(karras.isSet("use_karras_sigmas"));
		assertEquals("v_prediction", base.with("prediction_type", "v_prediction").predictionType());
		assertEquals(base, base.with("prediction_type", "v_prediction").with("prediction_type", null).with(
			"prediction_type", "epsilon").with("prediction_type", null));
	}

	@Test
	void toJsonRoundTrips() {
		SchedulerConfig c = TimestepScheduleTest.sd15().with("num_train_timesteps", 2).with("trained_betas",
			new double[] { 0.1, 0.2 });
		assertEquals(c, SchedulerConfig.fromJson(c.toJson()));
	}

	@Test
	void diffusersAliasesAreRead() {
		SchedulerConfig deis = SchedulerConfig.fromJson("{\"algorithm_type\": \"deis\", \"solver_type\": \"logrho\","
			+ " \"lambda_min_clipped\": \"-Infinity\"}");
		assertEquals("dpmsolver++", deis.algorithmType());
		assertEquals("midpoint", deis.solverType());
		assertEquals(Double.NEGATIVE_INFINITY, deis.lambdaMinClipped());
	}

	private static String messageOf(String json) {
		return assertThrows(StableDiffusionException.class, () -> SchedulerConfig.fromJson(json)).getMessage();
	}

	/** {@code json} is rejected with a message that contains every one of {@code parts}. */
	private static void assertMessageNames(String json, String... parts) {
		String m = messageOf(json);
		for (String part : parts) assertTrue(m.contains(part), "\"" + part + "\" missing from: " + m);
	}

	@Test
	void invalidValuesNameTheKeyAndTheAllowedValues() {
		// the message names the key, and the allowed values where they are a short list
		assertMessageNames("{\"timestep_spacing\": \"middle\"}", "\"timestep_spacing\"", "\"middle\"",
			"leading, linspace, trailing");
		assertMessageNames("{\"beta_schedule\": \"quadratic\"}", "\"beta_schedule\"",
			"linear, scaled_linear, squaredcos_cap_v2");
		assertMessageNames("{\"prediction_type\": \"noise\"}", "\"prediction_type\"", "epsilon, v_prediction, sample");
		assertMessageNames("{\"steps_offset\": \"one\"}", "\"steps_offset\"", "whole number");
		assertMessageNames("{\"num_train_timesteps\": 1000.5}", "\"num_train_timesteps\"");
		assertMessageNames("{\"clip_sample\": \"yes\"}", "\"clip_sample\"", "true or false");
		assertMessageNames("{\"beta_end\": 2}", "\"beta_end\"");
		assertMessageNames("{\"solver_order\": 5}", "\"solver_order\"", "1, 2 or 3");
		assertMessageNames("{\"num_train_timesteps\": 3, \"trained_betas\": [0.1, 0.2]}", "\"trained_betas\"",
			"num_train_timesteps");
		assertMessageNames("{\"thresholding\": true}", "\"thresholding\"");
		assertMessageNames("{\"sigma_max\": 0}", "\"sigma_max\"", "> 0");
		assertMessageNames("{\"sigma_min\": -0.1}", "\"sigma_min\"", "> 0");
		assertMessageNames("{\"sigma_min\": 10, \"sigma_max\": 5}", "\"sigma_max\"", "> sigma_min (10.0)");
		assertMessageNames("{\"final_sigmas_type\": \"one\"}", "\"final_sigmas_type\"", "zero, sigma_min");
		String m = assertThrows(StableDiffusionException.class, () -> TimestepScheduleTest.sd15().with("use_karras_sigmas",
			"on")).getMessage();
		assertTrue(m.contains("\"use_karras_sigmas\""), m);
		m = assertThrows(StableDiffusionException.class, () -> TimestepScheduleTest.sd15().with("karras", true))
			.getMessage();
		assertTrue(m.contains("\"karras\"") && m.contains("use_karras_sigmas"), m);
	}

	@Test
	void incompatibleCombinationsAreRejectedWhereTheSchedulerIsBuilt() {
		String m = assertThrows(StableDiffusionException.class, () -> new DPMSolverMultistepScheduler(
			TimestepScheduleTest.sd15().with("algorithm_type", "dpmsolver"))).getMessage();
		assertTrue(m.contains("\"final_sigmas_type\"") && m.contains("sigma_min"), m);
		m = assertThrows(StableDiffusionException.class, () -> new EulerAncestralDiscreteScheduler(TimestepScheduleTest
			.sd15().with("prediction_type", "sample"), new TorchCpuGenerator(0))).getMessage();
		assertTrue(m.contains("\"prediction_type\""), m);
		m = assertThrows(StableDiffusionException.class, () -> new PNDMScheduler(TimestepScheduleTest.sd15().with(
			"prediction_type", "sample"))).getMessage();
		assertTrue(m.contains("\"prediction_type\"") && m.contains("epsilon, v_prediction"), m);
		m = assertThrows(StableDiffusionException.class, () -> new LCMScheduler(SchedulerConfig.defaults(
			SchedulerConfig.LCM).with("num_train_timesteps", 40), new TorchCpuGenerator(0))).getMessage();
		assertTrue(m.contains("\"original_inference_steps\""), m);
	}

	@Test
	void missingFileNamesThePath(@TempDir Path dir) {
		Path missing = dir.resolve("scheduler").resolve("scheduler_config.json");
		String m = assertThrows(StableDiffusionException.class, () -> SchedulerConfig.load(missing)).getMessage();
		assertTrue(m.contains(missing.toString()), m);
	}

	@Test
	void brokenJsonNamesTheFile(@TempDir Path dir) throws IOException {
		Path json = dir.resolve("scheduler_config.json");
		Files.writeString(json, "{\"_class_name\": ");
		String m = assertThrows(StableDiffusionException.class, () -> SchedulerConfig.load(json)).getMessage();
		assertTrue(m.contains(json.toString()), m);
	}
}
