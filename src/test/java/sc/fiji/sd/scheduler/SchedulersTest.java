package sc.fiji.sd.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.StableDiffusionException;

/** The factory: A1111 sampler names, the configuration's class, and the names written back to provenance text. */
class SchedulersTest {

	private static Scheduler create(String name) {
		return Schedulers.create(name, TimestepScheduleTest.sd15(), new TorchCpuGenerator(0));
	}

	@Test
	void a1111NamesCaseInsensitive() {
		assertInstanceOf(DDIMScheduler.class, create("DDIM"));
		assertInstanceOf(PNDMScheduler.class, create("pndm"));
		assertInstanceOf(EulerDiscreteScheduler.class, create("euler"));
		assertInstanceOf(EulerAncestralDiscreteScheduler.class, create("EULER A"));
		assertInstanceOf(EulerAncestralDiscreteScheduler.class, create("  Euler   a "));
		assertInstanceOf(LMSDiscreteScheduler.class, create("LMS"));
		assertInstanceOf(HeunDiscreteScheduler.class, create("Heun"));
		assertInstanceOf(LCMScheduler.class, create("lcm"));
		Scheduler dpm = create("DPM++ 2M");
		assertInstanceOf(DPMSolverMultistepScheduler.class, dpm);
		assertFalse(dpm.config().useKarrasSigmas());
		Scheduler karras = create("dpm++ 2m karras");
		assertTrue(karras.config().useKarrasSigmas());
		assertEquals("DPM++ 2M Karras", karras.displayName());
		assertEquals("sde-dpmsolver++", create("DPM++ 2M SDE").config().algorithmType());
	}

	@Test
	void isKnownAgreesWithCreate() {
		for (String name : new String[] { "Euler a", " euler  A ", "Euler ancestral", "DPM++ 2M SDE Karras", "LMS Karras",
			"EulerDiscreteScheduler", "lcm" }) {
			assertTrue(Schedulers.isKnown(name), name);
			create(name);
		}
		for (String name : new String[] { "Euler a Karras", "DDIM Karras", "Eulerish", "" }) {
			assertFalse(Schedulers.isKnown(name), name);
			assertThrows(StableDiffusionException.class, () -> create(name));
		}
	}

	@Test
	void plmsIsPndmWithoutRungeKutta() {
		Scheduler plms = Schedulers.create("PLMS", SchedulerConfig.defaults(SchedulerConfig.PNDM), null);
		assertTrue(plms.config().skipPrkSteps());
		Scheduler pndm = Schedulers.create("PNDM", SchedulerConfig.defaults(SchedulerConfig.PNDM), null);
		assertFalse(pndm.config().skipPrkSteps());
	}

	@Test
	void everyListedNameCreatesASchedulerThatRuns() {
		for (String name : Schedulers.names()) {
			Scheduler s = create(name);
			float[] x = DiffusersFixtures.sigmaLoop(s, 8);
			for (float v : x)
				assertTrue(Float.isFinite(v), name);
			assertEquals(name.replace("PNDM", "PLMS"), s.displayName(), "display name of " + name);
		}
	}

	@Test
	void nullNameUsesTheConfigurationClass(@TempDir Path dir) throws IOException {
		Path json = dir.resolve("scheduler_config.json");
		Files.writeString(json, TimestepScheduleTest.SD15);
		Scheduler s = Schedulers.create(null, json);
		assertInstanceOf(PNDMScheduler.class, s);
		assertEquals("PLMS", s.displayName()); // skip_prk_steps true
		assertInstanceOf(EulerDiscreteScheduler.class, Schedulers.create(null, SchedulerConfig.defaults(
			SchedulerConfig.EULER), null));
		assertInstanceOf(LCMScheduler.class, Schedulers.create("LCMScheduler", TimestepScheduleTest.sd15(),
			new TorchCpuGenerator(0)));
	}

	@Test
	void unknownNameListsTheValidNames() {
		String m = assertThrows(StableDiffusionException.class, () -> create("DPM++ 3M")).getMessage();
		assertTrue(m.contains("\"DPM++ 3M\""), m);
		for (String name : Schedulers.names())
			assertTrue(m.contains(name), m);
		m = assertThrows(StableDiffusionException.class, () -> create("DDIM Karras")).getMessage();
		assertTrue(m.contains("DDIM Karras"), m);
	}

	@Test
	void unsupportedClassInConfigurationIsNamed() {
		SchedulerConfig ddpm = SchedulerConfig.fromJson("{\"_class_name\": \"DDPMScheduler\"}");
		String m = assertThrows(StableDiffusionException.class, () -> Schedulers.create(null, ddpm, null)).getMessage();
		assertTrue(m.contains("DDPMScheduler") && m.contains("_class_name") && m.contains("Euler a"), m);
		m = assertThrows(StableDiffusionException.class, () -> Schedulers.create(null, SchedulerConfig.fromJson("{}"),
			null)).getMessage();
		assertTrue(m.contains("_class_name"), m);
	}

	@Test
	void missingConfigurationFileNamesThePath(@TempDir Path dir) {
		Path missing = dir.resolve("nope.json");
		String m = assertThrows(StableDiffusionException.class, () -> Schedulers.create("Euler", missing)).getMessage();
		assertTrue(m.contains(missing.toString()), m);
	}

	@Test
	void a1111ProvenanceNames() {
		Schedulers.A1111Sampler k = Schedulers.a1111Sampler(create("DPM++ 2M Karras"));
		assertEquals("DPM++ 2M", k.sampler());
		assertEquals("Karras", k.scheduleType());
		assertEquals("Sampler: DPM++ 2M, Schedule type: Karras", k.parametersText());
		Schedulers.A1111Sampler ea = Schedulers.a1111Sampler(create("Euler a"));
		assertEquals("Euler a", ea.sampler());
		assertNull(ea.scheduleType());
		assertEquals("Sampler: Euler a", ea.parametersText());
		assertEquals("PLMS", Schedulers.a1111Sampler(create("PNDM")).sampler());
		// the provenance name creates the same sampler again
		Scheduler again = create(k.sampler() + " " + k.scheduleType());
		assertTrue(again.config().useKarrasSigmas());
	}

	@Test
	void theRegistryKeepsTheA1111NamesAndTheirOrder() {
		// the drop-down order users know (CommandsTest checks the Fiji commands' constant choices against it)
		assertEquals(List.of("Euler a", "Euler", "Euler Karras", "LMS", "LMS Karras", "Heun", "Heun Karras", "DPM++ 2M",
			"DPM++ 2M Karras", "DPM++ 2M SDE", "DPM++ 2M SDE Karras", "UniPC", "UniPC Karras", "DDIM", "PLMS", "PNDM",
			"LCM"), Schedulers.names());
		assertEquals(List.of(SchedulerConfig.DDIM, SchedulerConfig.PNDM, SchedulerConfig.EULER,
			SchedulerConfig.EULER_ANCESTRAL, SchedulerConfig.LMS, SchedulerConfig.DPM_MULTISTEP, SchedulerConfig.LCM,
			SchedulerConfig.HEUN, SchedulerConfig.UNIPC), SchedulerConfig.SUPPORTED_CLASSES);
	}

	@Test
	void everyRegisteredClassIsTheDiffusersClassOfThatName() {
		for (Schedulers.SchedulerClass c : Schedulers.CLASSES) {
			Scheduler s = c.constructor().create(SchedulerConfig.defaults(c.name()), new TorchCpuGenerator(0));
			assertEquals(c.name(), s.getClass().getSimpleName(), "diffusers' name kept");
			assertEquals(c.name(), s.config().className());
			assertInstanceOf(s.getClass(), Schedulers.create(c.name().toUpperCase(), TimestepScheduleTest.sd15(),
				new TorchCpuGenerator(0)), "created by its class name");
			// the class's own defaults are the ones its configuration uses
			c.defaults().forEach((key, value) -> assertEquals(value, s.config().value(key), c.name() + " " + key));
		}
		for (Schedulers.Sampler sampler : Schedulers.SAMPLERS)
			assertTrue(SchedulerConfig.SUPPORTED_CLASSES.contains(sampler.className()), sampler.name());
	}

	@Test
	void everyProvenanceNameCreatesTheSameSamplerAgain() {
		for (String name : Schedulers.names()) {
			Scheduler s = create(name);
			Schedulers.A1111Sampler written = Schedulers.a1111Sampler(s);
			Scheduler again = create(written.sampler() + (written.scheduleType() == null ? ""
				: " " + written.scheduleType()));
			assertEquals(s.getClass(), again.getClass(), name);
			assertEquals(s.config(), again.config(), name);
		}
	}
}
