package sc.fiji.sd.imagej;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import ij.ImagePlus;
import ij.process.ImageProcessor;
import sc.fiji.sd.ij1.OutsideSelection;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/**
 * Outpaint with a fake pipeline (white for seed 255): the canvas grows by the sides, every original pixel is kept bit
 * for bit (each image type, RGB and the input's own type, at canvas sizes that are and are not multiples of the size
 * step), the new area is painted, and the parameters say what was extended.
 */
class OutpaintTest {

	@ParameterizedTest
	@ValueSource(ints = { 64, 70 })
	void everyOriginalPixelIsKeptAndTheNewAreaPainted(int size) {
		// 64 + 16 + 16 = 96 and 64 + 16 = 80 are multiples of the fake's step (16); 70 + 16 ... are not.
		for (String output : new String[] { Parameters.SAME_AS_INPUT, Parameters.RGB })
			for (ImagePlus input : OutsideSelection.inputs(size)) {
				input.deleteRoi(); // Outpaint needs no selection
				FakeGenerator fake = new FakeGenerator();
				Parameters p = new Parameters(Mode.INPAINT);
				p.seed = 255;
				p.strength = 1;
				p.outpainting = true;
				p.left = 16;
				p.top = 16;
				p.bottom = 0;
				p.right = size == 64 ? 16 : 5;
				p.output = output;
				ImagePlus out = new Generation(fake).run(p, input, new ImageJProgress(false)).image();
				String what = input.getTitle() + ", " + output;
				assertEquals(size + 16 + p.right, out.getWidth(), what);
				assertEquals(size + 16, out.getHeight(), what);
				GenerationRequest r = fake.requests.get(0);
				assertEquals(1f, r.mask().getAt(0, 0).get(), "the new area is repainted");
				boolean typed = !Parameters.RGB.equals(output) && input.getType() != ImagePlus.COLOR_RGB;
				assertEquals(typed ? input.getBitDepth() : 24, out.getBitDepth(), what);
				ImageProcessor after = out.getProcessor();
				int[] displayed = OutsideSelection.displayed(input);
				for (int y = 0; y < size; y++)
					for (int x = 0; x < size; x++) {
						boolean same = typed
							? Float.floatToRawIntBits(input.getProcessor().getf(x, y))
								== Float.floatToRawIntBits(after.getf(x + 16, y + 16))
							: (displayed[y * size + x] & 0xffffff) == (after.get(x + 16, y + 16) & 0xffffff);
						if (!same) throw new AssertionError(what + ": original pixel " + x + "," + y + " changed");
					}
				ImageProcessor whiteCheck = typed ? after : after.convertToByteProcessor(false);
				assertEquals(typed ? input.getDisplayRangeMax() : 255, whiteCheck.getf(0, 0), 1e-3,
					what + ": the corner is painted (white)");
				String parameters = (String) out.getProperty(Generation.PARAMETERS_PROPERTY);
				assertTrue(parameters.endsWith("Outpaint: \"left 16, right " + p.right + ", top 16, bottom 0\""),
					parameters);
				assertTrue(input.getWidth() == size && input.getRoi() == null, "the input is left alone");
			}
	}

	@Test
	void noSideToExtendSaysSo() {
		Parameters p = new Parameters(Mode.INPAINT);
		p.outpainting = true;
		ImagePlus input = new ImagePlus("photo", new ij.process.ByteProcessor(32, 32));
		var e = assertThrows(sc.fiji.sd.StableDiffusionException.class,
			() -> new Generation(new FakeGenerator()).run(p, input, new ImageJProgress(false)));
		assertTrue(e.getMessage().contains("at least one side"), e.getMessage());
	}

	@Test
	void noImageNamesOutpaint() {
		Parameters p = new Parameters(Mode.INPAINT);
		p.outpainting = true;
		p.left = 16;
		var e = assertThrows(sc.fiji.sd.StableDiffusionException.class,
			() -> new Generation(new FakeGenerator()).run(p, null, new ImageJProgress(false)));
		assertTrue(e.getMessage().startsWith("Outpaint works on an image") && e.getMessage().contains("run Outpaint..."),
			"the user ran Outpaint..., not Image to Image...: " + e.getMessage());
	}
}
