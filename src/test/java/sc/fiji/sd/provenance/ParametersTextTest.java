package sc.fiji.sd.provenance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The parameters text read back: what {@link Provenance#parameters} writes, and the quoting A1111 uses. */
class ParametersTextTest {

	@Test
	void readsBackWhatProvenanceWrites() {
		Map<String, String> extra = new LinkedHashMap<>();
		extra.put("Hires upscale", "2");
		extra.put("Variation seed", "10");
		extra.put("Variation seed strength", "0.3");
		String text = Provenance.parameters("a cat,\non two lines", "blurry\nugly", 20, "DPM++ 2M Karras", 7.5, 123,
			512, 384, "sd15", 0.6, extra);
		// A1111's order: the seed keys before the denoising strength, the others after it
		assertEquals("a cat,\non two lines\nNegative prompt: blurry\nugly\nSteps: 20, Sampler: DPM++ 2M, Schedule type: "
			+ "Karras, CFG scale: 7.5, Seed: 123, Size: 512x384, Model: sd15, Variation seed: 10, Variation seed strength: "
			+ "0.3, Denoising strength: 0.6, Hires upscale: 2", text);
		ParametersText p = ParametersText.parse(text);
		assertEquals("a cat,\non two lines", p.prompt());
		assertEquals("blurry\nugly", p.negativePrompt());
		assertEquals("20", p.get("Steps"));
		assertEquals("DPM++ 2M", p.get("Sampler"));
		assertEquals("Karras", p.get("Schedule type"));
		assertEquals("512x384", p.get("Size"));
		assertEquals("10", p.get("Variation seed"));
		assertEquals("0.3", p.get("Variation seed strength"));
		assertEquals("0.6", p.get("Denoising strength"));
		assertEquals("2", p.get("Hires upscale"));
		assertEquals(11, p.values().size());
	}

	@Test
	void quotedValuesAndMissingParts() {
		ParametersText p = ParametersText.parse("Steps: 4, Lora hashes: \"a: 1, b: 2\", Seed: 3");
		assertEquals("", p.prompt());
		assertEquals("a: 1, b: 2", p.get("Lora hashes"));
		assertEquals("3", p.get("Seed"));
		ParametersText onlyPrompt = ParametersText.parse("just a prompt");
		assertEquals("just a prompt", onlyPrompt.prompt());
		assertNull(onlyPrompt.get("Steps"));
	}
}
