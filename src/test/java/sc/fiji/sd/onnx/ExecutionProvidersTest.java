package sc.fiji.sd.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.ExecutionProviders.SessionMemory;

/**
 * The tests run on ONNX Runtime's CPU build, where CUDA cannot start: this is exactly the fallback a user without the
 * GPU build sees.
 */
class ExecutionProvidersTest {

	static Path identityModel() throws Exception {
		return Path.of(ExecutionProvidersTest.class.getResource("/onnx/identity.onnx").toURI());
	}

	@Test
	void deviceNames() {
		assertEquals(Device.AUTO, Device.parse(null));
		assertEquals(Device.CUDA, Device.parse(" CUDA "));
		assertEquals("cpu", Device.parse("cpu").label());
		var e = assertThrows(StableDiffusionException.class, () -> Device.parse("gpu"));
		assertTrue(e.getMessage().contains("auto, cpu or cuda"));
	}

	@Test
	void autoFallsBackToTheCpuWithAOneLineReason() throws Exception {
		assertFalse(ExecutionProviders.cudaCompiledIn(), "tests run on the CPU build");
		SessionFactory sessions = new SessionFactory("auto");
		try (OrtSession s = sessions.open(identityModel(), SessionMemory.NO_ARENA)) {
			assertEquals(3, s.getNumInputs());
		}
		assertEquals(Device.CPU, sessions.provider());
		assertTrue(sessions.fallbackReason().contains("CPU-only build"), sessions.fallbackReason());
		assertFalse(sessions.fallbackReason().contains("\n"));
	}

	@Test
	void cpuHasNoFallbackReason() throws Exception {
		SessionFactory sessions = new SessionFactory("cpu");
		try (OrtSession s = sessions.open(identityModel(), SessionMemory.NO_ARENA)) {
			assertEquals(Device.CPU, sessions.provider());
			assertNull(sessions.fallbackReason());
		}
	}

	@Test
	void explicitCudaThatCannotStartIsAClearError() throws Exception {
		SessionFactory sessions = new SessionFactory("cuda");
		Path model = identityModel();
		var e = assertThrows(StableDiffusionException.class, () -> sessions.open(model, SessionMemory.NO_ARENA));
		assertTrue(e.getMessage().startsWith("Device cuda was requested but CUDA could not start"), e.getMessage());
		assertTrue(e.getMessage().contains("device auto or cpu"), e.getMessage());
		assertTrue(e.getMessage().contains("CPU-only build"), e.getMessage());
	}

	@Test
	void providerErrorsAreTranslated() {
		assertTrue(ExecutionProviders.cudaFailureReason(new OrtException(
			"Failed to load library libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file"))
			.startsWith("cuDNN 9 libraries are missing"));
		assertTrue(ExecutionProviders.cudaFailureReason(new OrtException(
			"Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.12: cannot open shared object file"))
			.startsWith("CUDA 12 libraries are missing"));
		assertTrue(ExecutionProviders.cudaFailureReason(new OrtException("ORT_EP_FAIL: Failed to find CUDA shared provider"))
			.contains("CPU-only build"));
		assertTrue(ExecutionProviders.cudaFailureReason(new OrtException(
			"CUDA failure 100: no CUDA-capable device is detected ; GPU=0")).startsWith("no usable NVIDIA GPU"));
		assertEquals("CUDA provider error: something odd", ExecutionProviders.cudaFailureReason(
			new OrtException("something odd\nstack")));
	}

	@Test
	void describeSaysWhyCudaIsNotUsed() {
		String d = ExecutionProviders.describe();
		assertTrue(d.startsWith("ONNX Runtime " + OnnxEnvironment.BUILT_AGAINST), d);
		assertTrue(d.contains("CUDA: not used (this is the CPU-only build"), d);
	}

	@Test
	void sessionOptionsAreSetDeliberately() throws Exception {
		try (var o = ExecutionProviders.sessionOptions(RuntimeOptions.DEFAULTS, Device.CPU, SessionMemory.ARENA)) {
			// ORT keeps thread counts and optimisation level natively; the config map is empty unless entries are added.
			assertTrue(o.getConfigEntries().isEmpty());
		}
	}

	@Test
	void theUnetKeepsAnArenaThatARunCanEmpty() throws Exception {
		assertTrue(RuntimeOptions.DEFAULTS.cpuArena(SessionMemory.ARENA), "the UNet reuses its memory from step to step");
		assertFalse(RuntimeOptions.DEFAULTS.cpuArena(SessionMemory.NO_ARENA), "the text encoder runs without one");
		SessionFactory sessions = new SessionFactory("cpu");
		try (OrtSession arena = sessions.open(identityModel(), SessionMemory.ARENA);
			OrtSession plain = sessions.open(identityModel(), SessionMemory.NO_ARENA);
			OrtSession.RunOptions release = ExecutionProviders.releaseArenaOptions();
			Tensors.Reusable x16 = new Tensors.Reusable(OnnxJavaType.FLOAT16, new long[] { 2 });
			Tensors.Reusable x32 = new Tensors.Reusable(OnnxJavaType.FLOAT, new long[] { 2 });
			OnnxTensor i64 = Tensors.create(OnnxJavaType.INT64, new float[] { 5 }, new long[0]))
		{
			x32.put(0, new float[] { 1.5f, -2f }, 0, 2);
			var inputs = Map.of("x16", x16.tensor(), "x32", x32.tensor(), "i64", i64);
			try (var r = arena.run(inputs, Set.of("y32"), release)) {
				assertArrayEquals(new float[] { 1.5f, -2f }, Tensors.toFloats(r.get("y32").get()));
			}
			// the option names an arena: ONNX Runtime refuses it on a session without one, hence no options there
			assertThrows(OrtException.class, () -> plain.run(inputs, Set.of("y32"), release).close());
		}
	}
}
