package sc.fiji.sd.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.ExecutionProviders.SessionMemory;
import sc.fiji.sd.onnx.RuntimeOptions.ArenaUse;

/** The runtime options: read once from the sd.* properties, with today's defaults, and handed to the sessions. */
class RuntimeOptionsTest {

	private static final String[] PROPERTIES = { "sd.cfg", "sd.cpuArena", "sd.memPattern", "sd.optLevel",
		"sd.ort.config", "sd.cuda.convAlgoSearch", "sd.vaeTiling", "sd.vaeTile", "sd.vaeTileOverlap", "sd.vaeTileAbove" };

	/** The options read with exactly these properties set (the others cleared); every property is restored after. */
	private static RuntimeOptions withProperties(Map<String, String> set) {
		Map<String, String> saved = new LinkedHashMap<>();
		for (String p : PROPERTIES) {
			saved.put(p, System.getProperty(p));
			System.clearProperty(p);
		}
		try {
			set.forEach(System::setProperty);
			return RuntimeOptions.fromSystemProperties();
		}
		finally {
			saved.forEach((k, v) -> {
				if (v == null) System.clearProperty(k);
				else System.setProperty(k, v);
			});
		}
	}

	@Test
	void withoutPropertiesTheDefaults() {
		RuntimeOptions o = withProperties(Map.of());
		assertEquals(RuntimeOptions.DEFAULTS, o);
		assertEquals(CfgMode.AUTO, o.cfg());
		assertEquals(OptLevel.BASIC_OPT, o.optLevel());
		assertEquals("HEURISTIC", o.cudaConvAlgoSearch());
		assertTrue(o.cpuArena(SessionMemory.ARENA));
		assertFalse(o.cpuArena(SessionMemory.NO_ARENA));
		assertTrue(o.memoryPattern(false), "memory pattern where there is no arena");
		assertFalse(o.memoryPattern(true));
		assertEquals(Runtime.getRuntime().availableProcessors(), o.intraOpThreads());
	}

	@Test
	void thePropertiesAreParsedAsBefore() {
		RuntimeOptions o = withProperties(Map.of("sd.cfg", " Separate ", "sd.cpuArena", "NONE", "sd.memPattern", "yes",
			"sd.optLevel", "extended_opt", "sd.ort.config", "session.disable_prepacking=1, a = b ,junk",
			"sd.cuda.convAlgoSearch", "EXHAUSTIVE"));
		assertEquals(CfgMode.SEPARATE, o.cfg());
		assertEquals(ArenaUse.NONE, o.cpuArena());
		assertFalse(o.cpuArena(SessionMemory.ARENA));
		assertEquals(Boolean.FALSE, o.memoryPattern(), "Boolean.parseBoolean: only \"true\" is true");
		assertEquals(OptLevel.EXTENDED_OPT, o.optLevel());
		assertEquals(Map.of("session.disable_prepacking", "1", "a", "b"), o.ortConfig());
		assertEquals("EXHAUSTIVE", o.cudaConvAlgoSearch());
		assertEquals(ArenaUse.ALL, withProperties(Map.of("sd.cpuArena", "true")).cpuArena());
		assertEquals(ArenaUse.AUTO, withProperties(Map.of("sd.cpuArena", "unet")).cpuArena(), "unknown: auto");
		assertTrue(withProperties(Map.of("sd.memPattern", "TRUE")).memoryPattern(true));
		assertThrows(StableDiffusionException.class, () -> withProperties(Map.of("sd.optLevel", "max")));
		assertThrows(StableDiffusionException.class, () -> withProperties(Map.of("sd.cfg", "both")));
	}

	@Test
	void vaeTilingFromItsProperties() {
		assertEquals(VaeTiling.DEFAULT, withProperties(Map.of()).vaeTiling());
		VaeTiling t = withProperties(Map.of("sd.vaeTiling", " always", "sd.vaeTile", "32", "sd.vaeTileOverlap", "8",
			"sd.vaeTileAbove", "40")).vaeTiling();
		assertEquals(new VaeTiling(VaeTiling.Use.ALWAYS, 32, 8, 40), t);
		assertEquals(VaeTiling.Use.NEVER, withProperties(Map.of("sd.vaeTiling", "never")).vaeTiling().use());
		assertThrows(IllegalArgumentException.class, () -> withProperties(Map.of("sd.vaeTiling", "sometimes")));
		assertThrows(IllegalArgumentException.class, () -> withProperties(Map.of("sd.vaeTile", "16",
			"sd.vaeTileOverlap", "9")), "the overlap is at most half the tile");
	}

	@Test
	void theSessionsGetTheOptions() throws Exception {
		RuntimeOptions o = RuntimeOptions.DEFAULTS.withThreads(-3).withDevice(Device.CPU);
		assertEquals(0, o.threads(), "negative thread counts mean all processors, as the Fiji setting did");
		Map<String, String> entries = Map.of("session.disable_prepacking", "1");
		RuntimeOptions withEntries = new RuntimeOptions(1, Device.CPU, CfgMode.AUTO, ArenaUse.AUTO, null,
			OptLevel.BASIC_OPT, entries, "HEURISTIC", VaeTiling.DEFAULT);
		try (var s = ExecutionProviders.sessionOptions(withEntries, Device.CPU, SessionMemory.ARENA)) {
			assertEquals(entries, s.getConfigEntries());
		}
		SessionFactory sessions = new SessionFactory(o.withCpuArena(ArenaUse.ALL));
		assertEquals(Device.CPU, sessions.requested());
		assertTrue(sessions.cpuArena(SessionMemory.NO_ARENA), "the factory applies its options");
	}
}
