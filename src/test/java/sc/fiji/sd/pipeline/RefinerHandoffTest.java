package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.scheduler.Scheduler;

/** SDXL base → refiner hand-off (diffusers' denoising_end / denoising_start); the pixels: the conformance cases. */
class RefinerHandoffTest {

	@Test
	void theSwitchSplitsTheTimestepsAtItsCutoff() {
		Scheduler euler = DefaultSchedulers.forModel(TestModels.model("sdxl-base")).create("Euler", new SplittableRandom(0));
		euler.setTimesteps(20); // leading, steps_offset 1: 951, 901, … 201 | 151, … 1
		assertEquals(200, RefinerHandoff.cutoff(euler, 0.8));
		assertEquals(16, RefinerHandoff.baseEnd(euler, 0.8));
		assertEquals(16, RefinerHandoff.refinerStart(euler, 0.8));
		assertEquals(201.0, euler.timesteps()[15]);
		euler.setTimesteps(5); // 801 601 401 201 1, cut-off 400
		assertEquals(3, RefinerHandoff.baseEnd(euler, 0.6));
		assertEquals(3, RefinerHandoff.refinerStart(euler, 0.6));
	}

	@Test
	void baseRunsUntilTheSwitchAndTheRefinerTheRest() {
		StableDiffusionPipeline base = new StableDiffusionPipeline(TestModels.model("sdxl-base"));
		StableDiffusionPipeline refiner = new StableDiffusionPipeline(TestModels.model("sdxl-refiner"));
		base.setRefiner(refiner);
		List<StepProgress> steps = new ArrayList<>();
		GenerationResult r = base.generate(GenerationRequest.builder().prompt("a red circle").size(64, 48).steps(5)
			.scheduler("DDIM").guidance(5).seed(4).refinerSwitch(0.6).build(), steps::add);
		assertEquals(3, base.unetCalls(), "801, 601, 401");
		assertEquals(2, refiner.unetCalls(), "201, 1");
		assertEquals(5, steps.size());
		for (int i = 0; i < 5; i++) {
			assertEquals(i + 1, steps.get(i).step());
			assertEquals(5, steps.get(i).steps(), "progress counts both models' steps");
		}
		String parameters = r.images().get(0).parameters();
		assertTrue(parameters.endsWith(", Refiner: sdxl-refiner, Refiner switch at: 0.6"), parameters);
		PipelineEndToEndTest.assertValidImage(r.images().get(0).pixels(), 64, 48);
	}

	@Test
	void aSwitchWithoutARefinerOrAPairThatIsNotSdxlIsRefused() {
		StableDiffusionPipeline base = new StableDiffusionPipeline(TestModels.model("sdxl-base"));
		var request = GenerationRequest.builder().prompt("x").size(64, 64).steps(2).seed(1).refinerSwitch(0.8).build();
		var e = assertThrows(StableDiffusionException.class, () -> base.generate(request, null));
		assertTrue(e.getMessage().contains("no refiner model is set"), e.getMessage());
		e = assertThrows(StableDiffusionException.class,
			() -> base.setRefiner(new StableDiffusionPipeline(TestModels.model("embedded"))));
		assertTrue(e.getMessage().contains("not SDXL"), e.getMessage());
		e = assertThrows(StableDiffusionException.class,
			() -> base.setRefiner(new StableDiffusionPipeline(TestModels.model("sdxl-inpaint"))));
		assertTrue(e.getMessage().contains("inpainting model"), e.getMessage());
		for (double bad : new double[] { 1.0, -0.1, Double.NaN }) {
			e = assertThrows(StableDiffusionException.class,
				() -> GenerationRequest.builder().refinerSwitch(bad).build().validate());
			assertTrue(e.getMessage().contains("refiner switch"), e.getMessage());
		}
	}
}
