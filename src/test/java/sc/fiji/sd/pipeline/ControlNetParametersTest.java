package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import net.imglib2.img.array.ArrayImgs;

import org.junit.jupiter.api.Test;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.provenance.ParametersText;

/** A1111's ControlNet lines in the parameters text: written for every unit, read back, A1111's own texts read. */
class ControlNetParametersTest {

	@Test
	void writtenAsA1111sExtensionAndReadBack() {
		var image = ArrayImgs.floats(8, 8, 3);
		List<ControlNetUnit> units = List.of(
			new ControlNetUnit(Path.of("models", "control-canny"), image, "canny"),
			new ControlNetUnit(Path.of("models", "cn-mask", "model.onnx"), image, "mask", 0.75, 0.1, 0.8));
		String line = "Steps: 20, Sampler: DDIM, Seed: 1" + ControlNetParameters.text(units);
		assertTrue(line.contains(", ControlNet 0: \"Module: canny, Model: control-canny, Weight: 1, Resize Mode: "
			+ "Just Resize, Low Vram: False, Guidance Start: 0, Guidance End: 1, Pixel Perfect: False, Control Mode: "
			+ "Balanced\", ControlNet 1: \"Module: mask, Model: cn-mask, Weight: 0.75, Resize Mode: Just Resize, Low "
			+ "Vram: False, Guidance Start: 0.1, Guidance End: 0.8, Pixel Perfect: False, Control Mode: Balanced\""),
			line);
		assertEquals("1", ParametersText.parse("a cat\n" + line).get("Seed")); // the pairs after it still parse
		assertEquals(List.of(new ControlNetParameters.Entry("canny", "control-canny", 1, 0, 1),
			new ControlNetParameters.Entry("mask", "cn-mask", 0.75, 0.1, 0.8)),
			ControlNetParameters.parse("a cat\n" + line));
		assertEquals("", ControlNetParameters.text(List.of()));
		assertEquals(List.of(), ControlNetParameters.parse("a cat\nSteps: 20, Seed: 1"));
	}

	@Test
	void readsA1111sOwnText() {
		String a1111 = "a house\nSteps: 20, Sampler: DPM++ 2M, CFG scale: 7, Seed: 1, Size: 512x512, Model: v15, "
			+ "ControlNet 0: \"Module: canny, Model: control_v11p_sd15_canny [d14c016b], Weight: 0.5, Resize Mode: "
			+ "Crop and Resize, Low Vram: False, Processor Res: 512, Threshold A: 100, Threshold B: 200, Guidance "
			+ "Start: 0.2, Guidance End: 0.9, Pixel Perfect: False, Control Mode: Balanced\", Version: v1.6.0";
		assertEquals(List.of(new ControlNetParameters.Entry("canny", "control_v11p_sd15_canny [d14c016b]", 0.5, 0.2,
			0.9)), ControlNetParameters.parse(a1111));
		String bad = a1111.replace("Weight: 0.5", "Weight: heavy");
		String m = assertThrows(StableDiffusionException.class, () -> ControlNetParameters.parse(bad)).getMessage();
		assertTrue(m.contains("ControlNet 0 Weight") && m.contains("heavy"), m);
	}

	@Test
	void generatedImagesCarryTheLines() {
		var unit = new ControlNetUnit(TestModels.controlNet("controlnet-noscale"), ControlNetPipelineTest.disc(64, 64),
			"none", 0.5, 0, 0.75);
		String text = TestModels.controlNetPipeline().generate(GenerationRequest.builder().prompt("a red circle")
			.size(64, 64).steps(2).seed(1).control(unit).build(), null).images().get(0).parameters();
		assertEquals(List.of(new ControlNetParameters.Entry("none", "controlnet-noscale", 0.5, 0, 0.75)),
			ControlNetParameters.parse(text));
	}
}
