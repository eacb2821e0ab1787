package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import sc.fiji.sd.scheduler.DDIMScheduler;
import sc.fiji.sd.scheduler.SchedulerConfig;
import sc.fiji.sd.scheduler.Schedulers;

/**
 * Every image of a batch replays alone from its PNG: image 2 of {@code --batch 2 --seed 5} is the image of
 * {@code --seed 6}, pixel for pixel, with every sampler (the stochastic ones draw step noise per image).
 */
class BatchReplayTest {

	static Stream<String> samplers() {
		return Schedulers.names().stream();
	}

	@ParameterizedTest
	@MethodSource("samplers")
	void secondImageOfABatchReplaysAlone(String sampler) {
		assertReplays(TestModels.pipeline("embedded"), sampler);
	}

	/** DDIM with eta &gt; 0 is not in the registry (eta is a pipeline argument in diffusers) but draws step noise too. */
	@Test
	void ddimWithEtaReplaysAlone() {
		StableDiffusionPipeline embedded = TestModels.pipeline("embedded");
		SchedulerConfig config = DefaultSchedulers.config(embedded.model());
		assertReplays(new StableDiffusionPipeline(embedded.model(), (name, rng) -> new DDIMScheduler(config, 0.7, rng)),
			"DDIM");
	}

	private static void assertReplays(StableDiffusionPipeline p, String sampler) {
		var request = GenerationRequest.builder().prompt("a red circle").size(64, 64).steps(4).scheduler(sampler);
		GenerationResult batch = p.generate(request.seed(5).batchSize(2).build(), null);
		GenerationResult alone = p.generate(request.seed(6).batchSize(1).build(), null);
		assertEquals(6, batch.images().get(1).seed());
		assertEquals(batch.images().get(1).parameters(), alone.images().get(0).parameters());
		assertTrue(PipelineEndToEndTest.samePixels(batch.images().get(1).pixels(), alone.images().get(0).pixels()),
			sampler + ": image 2 of a batch with seed 5 differs from a run with seed 6");
	}
}
