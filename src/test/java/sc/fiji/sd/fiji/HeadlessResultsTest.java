package sc.fiji.sd.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.scijava.Context;
import org.scijava.command.CommandModule;
import org.scijava.command.CommandService;
import org.scijava.prefs.PrefService;
import org.scijava.ui.UIService;

import ij.ImagePlus;
import ij.WindowManager;
import ij.macro.Interpreter;
import ij.process.ByteProcessor;
import sc.fiji.sd.imagej.FakeGeneratorAccess;

/**
 * Fiji --headless: no user interface shows a command's output, so the result must be registered with ImageJ 1.x
 * itself (a batch-mode image, and the current image of the thread that ran the command), or a macro's nImages,
 * getTitle() and the next run() would not see it.
 */
class HeadlessResultsTest {

	private Context context;

	@BeforeEach
	void start() {
		context = new Context();
		context.service(UIService.class).setHeadless(true);
		context.service(StableDiffusionService.class).setGenerator(FakeGeneratorAccess.create());
		context.service(PrefService.class).clear(TextToImageCommand.class);
		Interpreter.batchMode = true; // Fiji runs -batch macros in batch mode
	}

	@AfterEach
	void stop() {
		for (int id : ids()) Interpreter.removeBatchModeImage(WindowManager.getImage(id));
		Interpreter.batchMode = false;
		WindowManager.setTempCurrentImage(null);
		context.dispose();
	}

	private static int[] ids() {
		int[] ids = Interpreter.getBatchModeImageIDs();
		return ids == null ? new int[0] : ids;
	}

	private ImagePlus run(Class<? extends org.scijava.command.Command> command, Map<String, Object> inputs)
		throws Exception
	{
		CommandModule m = context.service(CommandService.class).run(command, true, inputs).get();
		ImagePlus result = (ImagePlus) m.getOutput("result");
		assertNotNull(result, m.getCancelReason());
		return result;
	}

	@Test
	void textToImagesResultIsABatchModeImageAndTheCurrentImage() throws Exception {
		ImagePlus result = run(TextToImageCommand.class, Map.of("prompt", "x", "seed", 1L, "steps", 2));
		assertTrue(Arrays.stream(ids()).anyMatch(id -> id == result.getID()), "listed: nImages counts it");
		assertEquals(1, WindowManager.getImageCount());
		assertSame(result, WindowManager.getCurrentImage(), "the caller's current image (getTitle(), the next run())");
	}

	@Test
	void afterImageToImageTheResultNotTheSourceIsCurrent() throws Exception {
		ImagePlus source = new ImagePlus("source", new ByteProcessor(32, 32));
		WindowManager.setTempCurrentImage(source); // selectImage("source") in a batch-mode macro
		ImagePlus result = run(ImageToImageCommand.class, Map.of("image", source, "prompt", "x", "seed", 2L));
		assertSame(result, WindowManager.getCurrentImage());
		assertEquals(1, ids().length, "registered once");
	}
}
