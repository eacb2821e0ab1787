package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import net.imglib2.img.array.ArrayImgs;

import org.junit.jupiter.api.Test;

import sc.fiji.sd.StableDiffusionException;

/** The request's ControlNet units: defaults, copying, and the checks that need no model. */
class ControlNetRequestTest {

	private static final Path MODEL = Path.of("controlnet-canny");

	private static ControlNetUnit unit() {
		return new ControlNetUnit(MODEL, ArrayImgs.floats(64, 64, 3), "canny");
	}

	private static String refusal(ControlNetUnit u) {
		GenerationRequest r = GenerationRequest.builder().prompt("x").control(unit()).control(u).build();
		return assertThrows(StableDiffusionException.class, r::validate).getMessage();
	}

	@Test
	void noControlsByDefaultAndUnitDefaults() {
		assertEquals(List.of(), GenerationRequest.builder().build().controls());
		ControlNetUnit u = unit();
		assertEquals(1.0, u.scale());
		assertEquals(0.0, u.start());
		assertEquals(1.0, u.end());
		assertEquals("none", new ControlNetUnit(MODEL, u.image(), null).module());
	}

	@Test
	void unitsKeepTheirOrderAndSurviveToBuilder() {
		ControlNetUnit a = unit(), b = unit().withScale(0.5).withGuidance(0.2, 0.8);
		GenerationRequest r = GenerationRequest.builder().control(a).control(b).build();
		assertEquals(List.of(a, b), r.controls());
		assertEquals(List.of(a, b), r.toBuilder().build().controls());
		assertEquals(List.of(b), r.toBuilder().controls(List.of(b)).build().controls());
		r.validate();
	}

	@Test
	void refusesBadUnitsNamingWhichOne() {
		String noImage = refusal(new ControlNetUnit(MODEL, null, "none"));
		assertTrue(noImage.contains("ControlNet 1") && noImage.contains("no control image"), noImage);
		String noModel = refusal(new ControlNetUnit(null, unit().image(), "none"));
		assertTrue(noModel.contains("ControlNet 1") && noModel.contains("no model"), noModel);
		String grey = refusal(new ControlNetUnit(MODEL, ArrayImgs.floats(64, 64), "none"));
		assertTrue(grey.contains("RGB"), grey);
		String negative = refusal(unit().withScale(-0.5));
		assertTrue(negative.contains("scale") && negative.contains("-0.5"), negative);
		assertTrue(refusal(unit().withScale(Double.NaN)).contains("scale"));
		for (double[] window : new double[][] { { -0.1, 1 }, { 0.5, 0.5 }, { 0.6, 0.4 }, { 0, 1.1 } }) {
			String m = refusal(unit().withGuidance(window[0], window[1]));
			assertTrue(m.contains("start < end"), m);
		}
	}

	@Test
	void edgeValuesAreAccepted() {
		GenerationRequest.builder().control(unit().withScale(0)).control(unit().withGuidance(0.99, 1)).build()
			.validate();
	}
}
