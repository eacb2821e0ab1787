package sc.fiji.sd.provenance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ProvenanceTest {

	@Test
	void automatic1111ParametersText() {
		assertEquals("a cat\nNegative prompt: blurry\nSteps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, "
			+ "Seed: 123, Size: 512x512, Model: sd15, Denoising strength: 0.6",
			Provenance.parameters("a cat", "blurry", 20, "DPM++ 2M Karras", 7.0, 123, 512, 512, "sd15", 0.6));
	}

	@Test
	void emptyNegativeAndTextToImageLeaveTheirFieldsOut() {
		assertEquals("a cat\nSteps: 4, Sampler: Euler a, CFG scale: 7.5, Seed: 4294967295, Size: 640x384, Model: tiny",
			Provenance.parameters("a cat", "", 4, "Euler a", 7.5, 4294967295L, 640, 384, "tiny", null));
		assertEquals("x\nSteps: 1, Sampler: Euler, CFG scale: 0, Seed: 0, Size: 64x64, Model: m, Denoising strength: 1",
			Provenance.parameters("x", null, 1, "Euler", 0, 0, 64, 64, "m", 1.0));
	}

	@Test
	void pngTextSaysTheImageIsAiGenerated() {
		var text = Provenance.pngText("p\nSteps: 1", "tiny");
		assertEquals("p\nSteps: 1", text.get("parameters"));
		assertEquals("true", text.get("AI-generated"));
		assertEquals(true, text.get("Comment").startsWith("AI-generated image"));
		assertEquals("Stable Diffusion for Fiji", text.get("Software"));
	}
}
