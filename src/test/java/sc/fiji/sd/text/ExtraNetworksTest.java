package sc.fiji.sd.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;

import sc.fiji.sd.StableDiffusionException;

class ExtraNetworksTest {

	@Test
	void loraTagsAreReadWithTheirWeights() {
		assertEquals(List.of(new ExtraNetworks.LoraTag("style", 0.8), new ExtraNetworks.LoraTag("lcm-lora", 1),
			new ExtraNetworks.LoraTag("old", 0.5)),
			ExtraNetworks.loras("a cat <lora:style:0.8>, <lora:lcm-lora> <lyco:old:0.5> <hypernet:h:1>"));
		assertThrows(StableDiffusionException.class, () -> ExtraNetworks.loras("<lora:style:strong>"));
	}

	@Test
	void tagsAreNotTokenized() {
		assertEquals(PromptParser.parse("a (cat:1.2) , "), PromptParser.parse("a (cat:1.2) <lora:style:0.8>, "));
		assertEquals("a cat, ", ExtraNetworks.strip("a cat<lora:x:1>, <hypernet:h:1>"));
	}
}
