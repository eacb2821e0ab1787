package sc.fiji.sd.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.GenerationResult;
import sc.fiji.sd.pipeline.TestModels;

/**
 * The size step of an export without {@code unet/config.json} comes from the UNet's graph (8 × the product of its
 * convolution strides), not from SD's 64: the fixtures' UNets down-sample once, so they take multiples of 16.
 */
class SizeStepTest {

	@ParameterizedTest
	@ValueSource(strings = { "int64-timestep", "fp16", "inpaint9", "v-prediction" })
	void fixturesWithoutAUnetConfigGetTheirStepFromTheGraph(String fixture) {
		assertFalse(Files.exists(TestModels.folder(fixture).resolve("unet/config.json")), "the case under test");
		assertEquals(16, TestModels.model(fixture).info().sizeStep());
	}

	/** Where a config says it too, graph and config agree (the embedded model and the optimum fixture). */
	@ParameterizedTest
	@ValueSource(strings = { "embedded", "optimum", "lcm" })
	void theGraphAgreesWithTheConfig(String model) {
		StableDiffusionModel m = TestModels.model(model);
		assertTrue(Files.exists(m.folder().resolve("unet/config.json")));
		assertEquals(m.info().sizeStep(), 8 * UnetDownsampling.of(m.unet().file()));
	}

	@Test
	void aSizeOfTheDerivedStepRunsAndOthersAreRefusedWithIt() {
		var p = TestModels.pipeline("int64-timestep");
		GenerationResult r = p.generate(GenerationRequest.builder().prompt("x").size(128, 96).steps(1).seed(1)
			.scheduler("Euler").build(), null);
		assertEquals(128, r.images().get(0).pixels().dimension(0));
		assertEquals(96, r.images().get(0).pixels().dimension(1));
		var e = assertThrows(StableDiffusionException.class, () -> p.generate(GenerationRequest.builder().prompt("x")
			.size(136, 96).steps(1).build(), null));
		assertTrue(e.getMessage().contains("multiple of 16"), e.getMessage());
	}

	/** A file that is no ONNX graph, or a graph without convolutions: no answer, and the caller keeps SD's 64. */
	@Test
	void unreadableOrConvolutionFreeGraphsGiveNoAnswer(@TempDir Path dir) throws IOException {
		Path junk = dir.resolve("junk.onnx");
		byte[] bytes = new byte[4096];
		new Random(1).nextBytes(bytes);
		Files.write(junk, bytes);
		assertEquals(-1, UnetDownsampling.of(junk));
		assertEquals(-1, UnetDownsampling.of(dir.resolve("missing.onnx")));
		assertEquals(-1, UnetDownsampling.of(Path.of("src/test/resources/fixtures/nan/unet/model.onnx")));
	}
}
