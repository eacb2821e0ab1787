package sc.fiji.sd.imagej;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.TestModels;

/** A model loaded without the LoRA a {@code <lora:…>} tag names refuses the tag: it is not dropped from the prompt unseen. */
class LoraTagTest {

	@Test
	void aLoraTagIsRefusedWhereNoLoraIsLoaded() {
		var generator = new PipelineGenerator(TestModels.model("embedded"));
		var e = assertThrows(StableDiffusionException.class, () -> generator.generate(GenerationRequest.builder()
			.prompt("a red circle <lora:purple:0.8>").size(64, 64).steps(1).seed(1).build(), null));
		assertTrue(e.getMessage().contains("<lora:purple>") && e.getMessage().contains("--lora-dir"), e.getMessage());
	}
}
