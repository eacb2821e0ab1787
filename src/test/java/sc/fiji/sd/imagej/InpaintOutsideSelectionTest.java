package sc.fiji.sd.imagej;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import ij.ImagePlus;
import sc.fiji.sd.ij1.OutsideSelection;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/**
 * ImageJ 1.x path: inpainting at the default feather leaves every pixel outside the selection exactly as it was, for
 * each image type, at a size that is a multiple of the model's size step (64) and at one that is not (70).
 */
class InpaintOutsideSelectionTest {

	@ParameterizedTest
	@ValueSource(ints = { 64, 70 })
	void everyPixelOutsideTheSelectionIsKeptAtTheDefaultFeather(int size) {
		for (ImagePlus input : OutsideSelection.inputs(size)) {
			int[] before = OutsideSelection.displayed(input);
			Parameters p = new Parameters(Mode.INPAINT);
			assertEquals(4, p.feather, "the default feather");
			p.seed = 255; // the fake paints white
			p.output = Parameters.RGB;
			ImagePlus out = new Generation(new FakeGenerator()).run(p, input, new ImageJProgress(false)).image();
			OutsideSelection.assertOnlyTheSelectionChanged(input, before, out);
		}
	}

	@ParameterizedTest
	@ValueSource(ints = { 64, 70 })
	void greyImagesKeepTheirOwnValuesOutsideTheSelection(int size) {
		for (ImagePlus input : OutsideSelection.inputs(size)) {
			if (input.getType() == ImagePlus.COLOR_RGB) continue;
			Parameters p = new Parameters(Mode.INPAINT);
			p.seed = 255;
			ImagePlus out = new Generation(new FakeGenerator()).run(p, input, new ImageJProgress(false)).image();
			OutsideSelection.assertOnlyTheSelectionChangedInTheInputsType(input, out);
		}
	}
}
