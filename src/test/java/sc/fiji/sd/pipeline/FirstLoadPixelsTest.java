package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.ModelOptimizer;
import sc.fiji.sd.onnx.RuntimeOptions;

/**
 * "Replays identically" across the first load of a model: the first load (no optimised files yet, written by a
 * separate process) generates the pixels GoldenPixelsTest recorded, and so does the next load, which reads the files.
 * Opening the first load's sessions at BASIC instead would not: BASIC rounds differently on 32 of the 33 golden cases.
 */
class FirstLoadPixelsTest {

	@TempDir
	Path cache;

	@Test
	void theFirstLoadWithAFreshCacheGeneratesTheRecordedPixelsAndSoDoesTheNext() throws Exception {
		GoldenPixelsTest.Case c = GoldenPixelsTest.cases().filter(k -> k.name().equals("t2i-euler-a")).findFirst()
			.orElseThrow();
		String recorded = GoldenPixelsTest.recorded().get(c.name());
		assertNotNull(recorded, "no digest recorded for " + c.name() + " in " + GoldenPixelsTest.file());
		RuntimeOptions options = RuntimeOptions.DEFAULTS.withDevice(Device.CPU).withOptimizedModels(cache);
		int before = ModelOptimizer.runs().size();
		assertEquals(recorded, generate(c, options), "first load, files written by the separate process");
		List<ModelOptimizer.Run> runs = ModelOptimizer.runs().subList(before, ModelOptimizer.runs().size());
		assertEquals(List.of("unet", "text_encoder", "vae_decoder", "vae_encoder"), runs.stream().map(
			ModelOptimizer.Run::component).toList(), "every component optimised once, in its own process");
		assertTrue(runs.stream().allMatch(ModelOptimizer.Run::written), runs.toString());
		assertEquals(recorded, generate(c, options), "a later load, from the files");
		assertEquals(runs.size(), ModelOptimizer.runs().size() - before, "the later load optimised nothing");
	}

	private static String generate(GoldenPixelsTest.Case c, RuntimeOptions options) {
		try (StableDiffusionModel model = StableDiffusionModel.load(TestModels.folder(c.model()), options)) {
			StableDiffusionPipeline p = new StableDiffusionPipeline(model);
			p.setCfgMode(c.cfg());
			p.setVaeTiling(c.tiling());
			List<GeneratedImage> images = new ArrayList<>();
			p.generate(c.request(), null, images::add);
			return GoldenPixelsTest.digest(images);
		}
	}
}
