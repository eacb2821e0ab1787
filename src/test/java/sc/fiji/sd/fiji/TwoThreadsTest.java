package sc.fiji.sd.fiji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.scijava.Context;
import org.scijava.command.CommandModule;
import org.scijava.command.CommandService;
import org.scijava.prefs.PrefService;

import ij.ImagePlus;
import sc.fiji.sd.ij1.SmallModel;
import sc.fiji.sd.imagej.Settings;

/**
 * Two Fiji generations started at once from two threads, each with its own model: they run one after the other
 * (the one loaded model is never released under a running generation), and each gives exactly the image it gives
 * alone, with its own model in its provenance.
 */
class TwoThreadsTest {

	private Context context;

	@BeforeEach
	void start() {
		context = new Context();
		context.service(PrefService.class).clear(TextToImageCommand.class);
		context.service(StableDiffusionService.class).apply(new Settings(SmallModel.folder().toString(), "cpu", 0));
	}

	@AfterEach
	void stop() {
		context.service(PrefService.class).clear(TextToImageCommand.class);
		Settings.defaults().save();
		context.dispose();
	}

	private ImagePlus generate(Path model, long seed) throws Exception {
		CommandModule m = context.service(CommandService.class).run(TextToImageCommand.class, true, Map.of("prompt",
			"a red circle", "steps", 3, "seed", seed, "model", model.toFile(), "device", "cpu")).get();
		ImagePlus result = (ImagePlus) m.getOutput("result");
		assertNotNull(result, "cancelled: " + m.getCancelReason());
		assertTrue(result.getInfoProperty().contains("Model: " + model.getFileName()), result.getInfoProperty());
		return result;
	}

	@Test
	void twoGenerationsFromTwoThreadsWithTwoModelsEachGiveTheirOwnImage() throws Exception {
		Path a = SmallModel.folder(), b = SmallModel.folder("optimum");
		int[] aloneA = (int[]) generate(a, 11).getProcessor().getPixels();
		int[] aloneB = (int[]) generate(b, 12).getProcessor().getPixels();
		ExecutorService pool = Executors.newFixedThreadPool(2);
		try {
			for (int round = 0; round < 2; round++) {
				CountDownLatch go = new CountDownLatch(1);
				Callable<int[]> runA = () -> {
					go.await();
					return (int[]) generate(a, 11).getProcessor().getPixels();
				};
				Callable<int[]> runB = () -> {
					go.await();
					return (int[]) generate(b, 12).getProcessor().getPixels();
				};
				Future<int[]> fa = pool.submit(runA), fb = pool.submit(runB);
				go.countDown();
				assertArrayEquals(aloneA, fa.get(), "thread A's image");
				assertArrayEquals(aloneB, fb.get(), "thread B's image");
			}
		}
		finally {
			pool.shutdownNow();
		}
	}
}
