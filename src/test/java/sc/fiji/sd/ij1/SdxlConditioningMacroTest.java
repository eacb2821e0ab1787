package sc.fiji.sd.ij1;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** SDXL's micro-conditioning macro keys, run by ImageJ 1's interpreter on the SDXL micro fixtures. */
class SdxlConditioningMacroTest {

	@Test
	void theBaseAndTheRefinerKeys() {
		HeadlessImageJ ij = HeadlessImageJ.shared();
		String printed = ij.runMacro("run(\"Text to Image...\", \"prompt=[a red circle] steps=2 seed=8 width=64 "
			+ "height=48 original_size=1024x768 crop=[16,8] model=[" + SmallModel.folder("sdxl-base") + "] device=cpu\");\n"
			+ "call(\"java.lang.System.setProperty\", \"sd.test.sdxl.told\", getMetadata(\"Info\"));\n"
			+ "run(\"Image to Image...\", \"prompt=x steps=4 seed=1 strength=0.5 aesthetic_score=9 negative_aesthetic=1 "
			+ "model=[" + SmallModel.folder("sdxl-refiner") + "] device=cpu\");\n"
			+ "call(\"java.lang.System.setProperty\", \"sd.test.sdxl.scored\", getMetadata(\"Info\"));\n"
			+ "close(\"*\");\n");
		assertTrue(!printed.contains("Macro Error"), printed);
		String told = System.getProperty("sd.test.sdxl.told");
		assertTrue(told.contains("Original size: 1024x768, Crop top left: \"16,8\""), told);
		String scored = System.getProperty("sd.test.sdxl.scored");
		assertTrue(scored.contains("Model: sdxl-refiner") && scored.contains("Aesthetic score: 9, Negative aesthetic "
			+ "score: 1"), scored);
	}
}
