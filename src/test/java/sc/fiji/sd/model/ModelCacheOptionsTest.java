package sc.fiji.sd.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.RuntimeOptions;
import sc.fiji.sd.pipeline.TestModels;

/** The cache is keyed by everything that changes the sessions: folder and runtime options (threads included). */
class ModelCacheOptionsTest {

	@Test
	void otherRuntimeOptionsReloadTheSameOnesReuse() {
		ModelCache cache = new ModelCache();
		RuntimeOptions cpu = RuntimeOptions.DEFAULTS.withDevice(Device.CPU);
		try {
			StableDiffusionModel a = cache.get(TestModels.folder("embedded"), cpu);
			assertSame(a, cache.get(TestModels.folder("embedded"), RuntimeOptions.DEFAULTS.withDevice(Device.CPU)));
			assertEquals(cpu, a.runtimeOptions());
			StableDiffusionModel oneThread = cache.get(TestModels.folder("embedded"), cpu.withThreads(1));
			assertNotSame(a, oneThread, "a thread count of the Fiji settings applies without a manual release");
			assertEquals(1, oneThread.runtimeOptions().threads());
		}
		finally {
			cache.release();
		}
	}
}
