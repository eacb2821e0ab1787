package sc.fiji.sd.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.scijava.Context;
import org.scijava.command.CommandModule;
import org.scijava.command.CommandService;
import org.scijava.prefs.PrefService;

import ij.ImagePlus;
import sc.fiji.sd.ij1.OutsideSelection;
import sc.fiji.sd.imagej.FakeGeneratorAccess;

/**
 * Fiji path (the Inpaint command through CommandService, headless): at the default feather every pixel outside the
 * selection is kept exactly, for each image type, at sizes that are and are not multiples of the size step.
 */
class InpaintOutsideSelectionCommandTest {

	private Context context;

	@BeforeEach
	void start() {
		context = new Context();
		context.service(StableDiffusionService.class).setGenerator(FakeGeneratorAccess.create());
		context.service(PrefService.class).clear(InpaintCommand.class); // a feather remembered by another test
	}

	@AfterEach
	void stop() {
		context.service(PrefService.class).clear(InpaintCommand.class);
		context.dispose();
	}

	@ParameterizedTest
	@ValueSource(ints = { 64, 70 })
	void everyPixelOutsideTheSelectionIsKeptAtTheDefaultFeather(int size) throws Exception {
		for (ImagePlus input : OutsideSelection.inputs(size)) {
			int[] before = OutsideSelection.displayed(input);
			context.service(PrefService.class).clear(InpaintCommand.class); // an output remembered from the last run
			if (input.getType() != ImagePlus.COLOR_RGB) {
				// By default (no output key) a grey image comes back in its own type, its own values kept outside.
				CommandModule typed = context.service(CommandService.class).run(InpaintCommand.class, true,
					Map.of("image", input, "prompt", "x", "seed", 255L)).get();
				OutsideSelection.assertOnlyTheSelectionChangedInTheInputsType(input, (ImagePlus) typed.getOutput("result"));
			}
			// No feather key: the command's default.
			CommandModule m = context.service(CommandService.class).run(InpaintCommand.class, true,
				Map.of("image", input, "prompt", "x", "seed", 255L, "output", "RGB")).get();
			ImagePlus result = (ImagePlus) m.getOutput("result");
			assertNotNull(result, m.getCancelReason());
			assertEquals(4, m.getInput("feather"), "the default feather");
			OutsideSelection.assertOnlyTheSelectionChanged(input, before, result);
		}
	}
}
