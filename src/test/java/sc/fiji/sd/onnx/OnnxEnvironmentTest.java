package sc.fiji.sd.onnx;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import sc.fiji.sd.StableDiffusionException;

class OnnxEnvironmentTest {

	@Test
	void oneEnvironmentForTheProcessOfTheVersionBuiltAgainst() {
		assertSame(OnnxEnvironment.get(), OnnxEnvironment.get());
		assertTrue(OnnxEnvironment.BUILT_AGAINST.startsWith("1."), "filtered from the pom: " + OnnxEnvironment.BUILT_AGAINST);
		assertEquals(OnnxEnvironment.BUILT_AGAINST, OnnxEnvironment.version());
	}

	@Test
	void anOlderOnnxRuntimeLoadedByAnotherPluginIsExplained() {
		var e = assertThrows(StableDiffusionException.class, () -> OnnxEnvironment.checkVersion("1.13.1", "1.29.0"));
		assertTrue(e.getMessage().contains("1.13.1"), e.getMessage());
		assertTrue(e.getMessage().contains("deepImageJ"), e.getMessage());
		assertTrue(e.getMessage().contains("restart Fiji"), e.getMessage());
		assertDoesNotThrow(() -> OnnxEnvironment.checkVersion("1.29.0", "1.29.0"));
		assertDoesNotThrow(() -> OnnxEnvironment.checkVersion("1.30.2", "1.29.0"));
	}

	@Test
	void aNativeLinkFailureBecomesAUserMessage() {
		var e = OnnxEnvironment.conflict(new UnsatisfiedLinkError("Native Library libonnxruntime.so already loaded in another classloader\nmore"));
		assertTrue(e.getMessage().contains("already loaded in another classloader"), e.getMessage());
		assertTrue(e.getMessage().contains("remove the other onnxruntime jar"), e.getMessage());
		assertTrue(!e.getMessage().contains("more"), "only the first line of the cause");
		assertTrue(e.getCause() instanceof UnsatisfiedLinkError);
	}
}
