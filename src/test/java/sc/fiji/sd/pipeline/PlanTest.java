package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import net.imglib2.img.array.ArrayImgs;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.model.ModelInfo;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/** Request validation against what a model can do; no model needs to be loaded. */
class PlanTest {

	static ModelInfo info(int unetInChannels, int condDim) {
		return new ModelInfo("m", Path.of("/nowhere/m"), "", "text to image", "float32", "int32", "float32", false, 768,
			77, 4, unetInChannels, condDim, "latent_sample", "epsilon", "PNDMScheduler", 512, 64, 0.18215, "cpu", "CPU",
			null);
	}

	static String failure(GenerationRequest.Builder b) {
		return assertThrows(StableDiffusionException.class, () -> Plan.of(b.build(), info(4, 0))).getMessage();
	}

	@Test
	void defaultsToTheNativeSizeAndDrawsARandomSeed() {
		Plan p = Plan.of(GenerationRequest.builder().build(), info(4, 0));
		assertEquals(512, p.width);
		assertEquals(64, p.latentH);
		assertTrue(p.seed >= 0 && p.seed < (1L << 32), "A1111-style seed " + p.seed);
		assertTrue(p.cfg);
	}

	@Test
	void sizesNameTheNearestValidOnes() {
		String m = failure(GenerationRequest.builder().size(500, 512));
		assertTrue(m.startsWith("Width 500 is not possible"), m);
		assertTrue(m.contains("multiple of 64"), m);
		assertTrue(m.contains("Nearest: 448 or 512"), m);
		assertTrue(failure(GenerationRequest.builder().size(512, 32)).contains("Nearest: 64"));
	}

	@Test
	void onlyMinusOneMeansRandomAndNegativeSizesAreRefused() {
		assertTrue(failure(GenerationRequest.builder().seed(-5)).contains("Seed -5 is not possible"));
		assertTrue(failure(GenerationRequest.builder().size(-64, 0)).contains("Width -64 is not possible"));
		assertTrue(failure(GenerationRequest.builder().scheduler("Eulerish")).contains("Unknown sampler"));
		assertEquals(null, Plan.of(GenerationRequest.builder().scheduler("").build(), info(4, 0)).schedulerName);
	}

	@Test
	void strengthStepsAndBatchAreChecked() {
		assertTrue(failure(GenerationRequest.builder().strength(1.5)).contains("Strength must be between 0 and 1"));
		assertTrue(failure(GenerationRequest.builder().strength(Double.NaN)).contains("Strength"));
		assertTrue(failure(GenerationRequest.builder().steps(0)).contains("Steps"));
		assertTrue(failure(GenerationRequest.builder().batchSize(0)).contains("Batch size"));
		assertTrue(failure(GenerationRequest.builder().guidance(-1)).contains("Guidance"));
	}

	@Test
	void imageModesNeedTheirInputsOfMatchingSizes() {
		assertTrue(failure(GenerationRequest.builder().mode(Mode.IMAGE_TO_IMAGE)).contains("needs an input image"));
		var image = ArrayImgs.floats(128, 64, 3);
		assertTrue(failure(GenerationRequest.builder().mode(Mode.INPAINT).initImage(image)).contains("and a mask"));
		String m = failure(GenerationRequest.builder().mode(Mode.INPAINT).initImage(image).mask(ArrayImgs.floats(64, 64)));
		assertTrue(m.contains("The mask is 64x64 but the image is 128x64"), m);
		assertTrue(failure(GenerationRequest.builder().mode(Mode.IMAGE_TO_IMAGE).initImage(ArrayImgs.floats(100, 64, 3)))
			.contains("Width 100"));
		assertTrue(failure(GenerationRequest.builder().mode(Mode.IMAGE_TO_IMAGE).initImage(image).size(64, 64))
			.contains("The input image is 128x64 but the output size is 64x64"));
		Plan p = Plan.of(GenerationRequest.builder().mode(Mode.IMAGE_TO_IMAGE).initImage(image).build(), info(4, 0));
		assertEquals(128, p.width, "the image's size by default");
	}

	@Test
	void noUnconditionalPassAtGuidanceOneOrForLcm() {
		assertFalse(Plan.of(GenerationRequest.builder().guidance(1).build(), info(4, 0)).cfg);
		assertFalse(Plan.of(GenerationRequest.builder().guidance(8.5).build(), info(4, 256)).cfg);
		assertEquals(42, Plan.of(GenerationRequest.builder().seed(42).build(), info(4, 0)).seed);
	}
}
